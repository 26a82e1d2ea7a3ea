/* SPDX-License-Identifier: Apache-2.0
 *
 * oci_console.h: a container's stdio for the cage (oci_console.c): streamed output, live
 * stdin, and runc's console-socket protocol for process.terminal.
 */
#ifndef DOCKLOCK_OCI_CONSOLE_H
#define DOCKLOCK_OCI_CONSOLE_H

#include "metanode/docklock.h"

/* Makes a pty, sends its master over the unix socket at socket_path and gives its slave (in
 * raw mode) in *slave. Returns -1 on success, else the exit code after reporting. */
int oci_console_send(const char *socket_path, int *slave);
/* The shim's streams: console >= 0 is the console's slave (terminal), else stdin/out/err. */
void oci_shim_io(mn_docklock_io *io, int console);
/* The shim's exec socket ROOT/ID/exec.sock (listening, non-blocking), or -1 (oci_exec.c). */
int oci_exec_listen(const char *root, const char *id);

#endif
