//go:build linux && !race

package client

import (
	"syscall"
	"unsafe"
)

// sysRead and sysWrite are read(2) and write(2) on a non-blocking
// socket, as raw system calls: they cannot block (EAGAIN instead), so the
// scheduler need not be told of them, which syscall.Read and Write do at
// a cost of ~100 ns each on every request. With the race detector they
// are syscall.Read and Write (h1_unix_other.go), which tell it that a
// write happens before the reads it answers.
func sysRead(fd int, p []byte) (int, error)  { return rawIOCall(syscall.SYS_READ, fd, p) }
func sysWrite(fd int, p []byte) (int, error) { return rawIOCall(syscall.SYS_WRITE, fd, p) }

// rawIOCall is read(2) or write(2) (trap) of p on fd.
func rawIOCall(trap uintptr, fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := syscall.RawSyscall(trap, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
