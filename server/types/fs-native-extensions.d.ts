// The part of fs-native-extensions (no types of its own) the data-dir lock uses. On Linux these
// are open-file-description locks (fcntl F_OFD_SETLK), on macOS flock(2).
declare module 'fs-native-extensions' {
  /** Takes the lock on the whole file without waiting; false when another holder has it. */
  export function tryLock(fd: number, options?: { shared?: boolean }): boolean;
  export function unlock(fd: number): void;
}
