// Paths and sockets. A filter has no preopened directory and no sockets, but toolchains (Go's
// syscall package above all) import these, so they must exist for the module to link. Each
// answers the way cpp-host does; out-params are zeroed so a guest that ignores the errno still
// reads a defined value.

import { WasiErrno, type WasiHost, type WasiTable } from './shared.ts';

export function pathImports(host: WasiHost): WasiTable {
  const memory = host.memory;
  const notsup = (): number => WasiErrno.NOTSUP;
  return {
    // No directory exists, so nothing can be found (rather than "not supported"): libc turns
    // this into an ordinary "file not found" that filters already handle.
    path_open: (): number => WasiErrno.NOENT,
    path_create_directory: notsup,
    path_filestat_get: notsup,
    path_filestat_set_times: notsup,
    path_link: notsup,
    path_readlink: (_fd: number, _path: number, _pathLen: number, _buf: number, _bufLen: number, bufUsedPtr: number): number => {
      memory.refresh();
      return memory.writeU32(bufUsedPtr, 0) ? WasiErrno.NOTSUP : WasiErrno.FAULT;
    },
    path_remove_directory: notsup,
    path_rename: notsup,
    path_symlink: notsup,
    path_unlink_file: notsup,
  };
}

export function sockImports(host: WasiHost): WasiTable {
  const memory = host.memory;
  return {
    sock_accept: (_fd: number, _flags: number, fdPtr: number): number => {
      memory.refresh();
      return memory.writeU32(fdPtr, 0) ? WasiErrno.NOTSUP : WasiErrno.FAULT;
    },
    sock_recv: (_fd: number, _riData: number, _riDataLen: number, _riFlags: number, roDataLenPtr: number, roFlagsPtr: number): number => {
      memory.refresh();
      const flags = roFlagsPtr >>> 0;
      // ro_flags is a u16: writing 4 bytes would clobber the guest's neighbouring data.
      if (!memory.inBounds(roDataLenPtr, 4) || !memory.inBounds(flags, 2)) return WasiErrno.FAULT;
      memory.writeU32(roDataLenPtr, 0);
      memory.view.setUint16(flags, 0, true);
      return WasiErrno.NOTSUP;
    },
    sock_send: (_fd: number, _siData: number, _siDataLen: number, _siFlags: number, soDataLenPtr: number): number => {
      memory.refresh();
      return memory.writeU32(soDataLenPtr, 0) ? WasiErrno.NOTSUP : WasiErrno.FAULT;
    },
    sock_shutdown: (): number => WasiErrno.NOTSUP,
  };
}
