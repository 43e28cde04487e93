/* info.h - `mkimage info`: show and verify the layout of an existing image. */
#ifndef INFO_H
#define INFO_H

/* Returns the exit status: 0 when everything verifies, 1 otherwise. */
int info_image(const char *path);

#endif
