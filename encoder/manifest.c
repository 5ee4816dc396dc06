/* manifest.c - placeholder until the tools work lands; see manifest.h. */
#include "manifest.h"
