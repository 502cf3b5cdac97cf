// File descriptors. A filter has no files: fds 1 and 2 are the plugin log (stdout → INFO,
// stderr → ERROR) and every other fd is closed. The answers copy proxy-wasm-cpp-host, because
// guests (Go's wasip1 runtime in particular) were tuned against it: some errors are ignored,
// others panic, so the exact errno matters more than what would be "right" for a real OS.

import { LogLevel } from '../types.ts';
import { isStdio, STDERR, STDOUT, WasiErrno, type WasiHost, type WasiTable } from './shared.ts';

/** Longest single write passed to the log; the rest is summarised rather than copied. */
export const MAX_LOGGED_WRITE_BYTES = 1024 * 1024;

/** What ends a logged message that was cut at MAX_LOGGED_WRITE_BYTES (proxy_log's too). */
export function notLogged(bytes: number): string {
  return ` …[${bytes} more bytes not logged]`;
}

const IOVEC_SIZE = 8;
const FDSTAT_SIZE = 24;
const RIGHT_FD_WRITE = 64n;
const NEWLINE = 0x0a;
const U32_MAX = 0xffff_ffff;

export function fdImports(host: WasiHost): WasiTable {
  const memory = host.memory;
  // Reused across writes that span several iovecs, so a chatty filter does not allocate a
  // fresh buffer per line; grows on demand up to MAX_LOGGED_WRITE_BYTES.
  let scratch = Buffer.alloc(0);

  /** Shared by fd_write and fd_pwrite (the offset of the latter means nothing for a log). */
  const writev = (fd: number, iovsArg: number, iovsLenArg: number, nwrittenPtr: number): number => {
    memory.refresh();
    let level: LogLevel;
    if (fd === STDOUT) level = LogLevel.INFO;
    else if (fd === STDERR) level = LogLevel.ERROR;
    else return WasiErrno.BADF;

    const iovs = iovsArg >>> 0;
    const iovsLen = iovsLenArg >>> 0;
    const size = memory.byteLength;
    // Checked before anything is logged, so a faulting call has no side effect.
    if (!memory.inBounds(nwrittenPtr, 4)) return WasiErrno.FAULT;
    if (iovs + iovsLen * IOVEC_SIZE > size) return WasiErrno.FAULT;

    // First pass: validate every buffer and total the length without copying anything.
    const view = memory.view;
    let total = 0;
    let nonEmpty = 0;
    let lastPtr = 0;
    for (let i = 0, at = iovs; i < iovsLen; i++, at += IOVEC_SIZE) {
      const len = view.getUint32(at + 4, true);
      if (len === 0) continue; // an empty buffer may point anywhere
      const ptr = view.getUint32(at, true);
      if (ptr + len > size) return WasiErrno.FAULT;
      total += len;
      nonEmpty++;
      lastPtr = ptr;
    }
    // The same bytes can be listed many times; a total nwritten cannot express is refused.
    if (total > U32_MAX) return WasiErrno.INVAL;

    if (total > 0) {
      const bytes = memory.bytes;
      let message: string;
      if (nonEmpty === 1 && total <= MAX_LOGGED_WRITE_BYTES) {
        // The common case (one line, one buffer): decode straight from guest memory.
        let end = lastPtr + total;
        if (bytes[end - 1] === NEWLINE) end--;
        message = bytes.utf8Slice(lastPtr, end);
      } else {
        // Several buffers are joined before decoding so a UTF-8 sequence split across them survives.
        const keep = Math.min(total, MAX_LOGGED_WRITE_BYTES);
        if (scratch.length < keep) {
          scratch = Buffer.allocUnsafe(Math.min(Math.max(keep, scratch.length * 2, 256), MAX_LOGGED_WRITE_BYTES));
        }
        let filled = 0;
        for (let i = 0, at = iovs; i < iovsLen && filled < keep; i++, at += IOVEC_SIZE) {
          const len = view.getUint32(at + 4, true);
          if (len === 0) continue;
          const ptr = view.getUint32(at, true);
          filled += bytes.copy(scratch, filled, ptr, ptr + Math.min(len, keep - filled));
        }
        if (keep < total) {
          message = scratch.utf8Slice(0, keep) + notLogged(total - keep);
        } else {
          message = scratch.utf8Slice(0, scratch[keep - 1] === NEWLINE ? keep - 1 : keep);
        }
      }
      host.log(level, message);
    }
    memory.writeU32(nwrittenPtr, total);
    return WasiErrno.SUCCESS;
  };

  /** Several calls succeed on stdio and fail on anything else, doing nothing either way. */
  const stdioOnly = (fd: number): number => (isStdio(fd) ? WasiErrno.SUCCESS : WasiErrno.BADF);

  return {
    fd_write: writev,

    fd_pwrite: (fd: number, iovs: number, iovsLen: number, _offset: bigint, nwrittenPtr: number): number =>
      writev(fd, iovs, iovsLen, nwrittenPtr),

    fd_read: (): number => WasiErrno.NOSYS,
    fd_pread: (): number => WasiErrno.NOSYS,

    // Emscripten's stdio calls these on stdout/stderr; failing them would break printf, so they
    // succeed quietly. Logged at debug only, since well-behaved filters hit them routinely.
    fd_seek: (fd: number, _offset: bigint, _whence: number, _newOffsetPtr: number): number => {
      host.log(LogLevel.DEBUG, `wasi fd_seek(${fd}) is not supported; reporting success`);
      return WasiErrno.SUCCESS;
    },
    fd_close: (fd: number): number => {
      host.log(LogLevel.DEBUG, `wasi fd_close(${fd}) ignored; reporting success`);
      return WasiErrno.SUCCESS;
    },

    fd_fdstat_get: (fd: number, statPtr: number): number => {
      memory.refresh();
      if (!isStdio(fd)) return WasiErrno.BADF;
      const p = statPtr >>> 0;
      if (!memory.inBounds(p, FDSTAT_SIZE)) return WasiErrno.FAULT;
      // filetype, flags and inheriting rights stay 0 (unknown / none); the only right is write.
      memory.bytes.fill(0, p, p + FDSTAT_SIZE);
      memory.writeU64(p + 8, RIGHT_FD_WRITE);
      return WasiErrno.SUCCESS;
    },

    // Go sets stdio non-blocking at start-up and ignores this error.
    fd_fdstat_set_flags: (): number => WasiErrno.NOSYS,
    fd_fdstat_set_rights: stdioOnly,
    fd_filestat_set_size: stdioOnly,
    fd_filestat_set_times: stdioOnly,
    fd_allocate: stdioOnly,
    fd_datasync: stdioOnly,
    fd_sync: stdioOnly,
    fd_advise: (): number => WasiErrno.SUCCESS,

    fd_tell: (fd: number, offsetPtr: number): number => {
      memory.refresh();
      if (!isStdio(fd)) return WasiErrno.BADF;
      return memory.writeU64(offsetPtr, 0n) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },

    fd_renumber: (from: number, to: number): number =>
      isStdio(from) && isStdio(to) ? WasiErrno.NOTSUP : WasiErrno.BADF,

    fd_readdir: (_fd: number, _buf: number, _bufLen: number, _cookie: bigint, bufUsedPtr: number): number => {
      memory.refresh();
      return memory.writeU32(bufUsedPtr, 0) ? WasiErrno.NOTDIR : WasiErrno.FAULT;
    },

    fd_filestat_get: (): number => WasiErrno.BADF,

    // There are no preopened directories. Go's wasip1 start-up scans fd 3, 4, … until it sees
    // BADF and panics on any other answer, so BADF it must be.
    fd_prestat_get: (): number => WasiErrno.BADF,
    fd_prestat_dir_name: (): number => WasiErrno.NOSYS,
  };
}
