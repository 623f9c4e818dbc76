/*
 * frontdev's private declarations.
 */
#ifndef XF_FRONTDEV_PRIVATE_H
#define XF_FRONTDEV_PRIVATE_H

#include <xenfront/frontdev.h>
#include <xenfront/errno.h>
#include <xenfront/platform.h>

/* Longest device type, id, subdirectory or key name accepted. */
#define XF_FRONTDEV__NAME_MAX 32

#endif
