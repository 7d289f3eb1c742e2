//go:build linux && !race

package h1

import (
	"syscall"
	"unsafe"
)

// sysRead and sysWrite are recvfrom(2) and sendto(2) on a connected,
// non-blocking socket (every conn's is one), as raw system calls.
//
//   - Raw: they cannot block (EAGAIN instead), so the scheduler need not
//     be told of them, which syscall.Read and Write do at a cost of
//     ~100 ns each on every request.
//   - recvfrom and sendto rather than read and write: they skip the VFS
//     layer (file position lock, permission hooks, fsnotify), a
//     measurable share of the generator's CPU (bench/HISTORY.md).
//   - MSG_NOSIGNAL: a write to a reset connection fails with EPIPE
//     without raising SIGPIPE, which the runtime would only ignore.
//
// With the race detector they are syscall.Read and Write
// (sys_unix_other.go), which tell it that a write happens before the
// reads it answers.
func sysRead(fd int, p []byte) (int, error) { return rawIOCall(syscall.SYS_RECVFROM, fd, p, 0) }
func sysWrite(fd int, p []byte) (int, error) {
	return rawIOCall(syscall.SYS_SENDTO, fd, p, syscall.MSG_NOSIGNAL)
}

// sysPeek is recvfrom(2) with MSG_PEEK|MSG_DONTWAIT: what is waiting in
// the socket, left there.
func sysPeek(fd int, p []byte) (int, error) {
	return rawIOCall(syscall.SYS_RECVFROM, fd, p, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
}

// rawIOCall is recvfrom(2) or sendto(2) (trap) of p on fd, with flags
// and no address.
func rawIOCall(trap uintptr, fd int, p []byte, flags uintptr) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := syscall.RawSyscall6(trap, uintptr(fd), uintptr(ptr), uintptr(len(p)), flags, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
