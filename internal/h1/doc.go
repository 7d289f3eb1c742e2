// Package h1 holds floodgate's HTTP/1.1 transport for http:// targets: a
// client.Transport with persistent connections, its response parser
// (RFC 9112) and, on Linux, the epoll poller its arrivals wait on.
//
// It exists for two measured reasons (bench/README.md). Throughput: per
// request it makes one send and, on loopback, usually one receive
// system call (sendto and recvfrom on Linux, sys_linux.go), builds the
// request in a pooled buffer, and allocates nothing. Memory: a request
// waiting for its response holds no read buffer; the buffer is taken
// from a pool only once the socket is readable (conn_unix.go), so 10,000
// VUs waiting on a slow server cost their goroutines and sockets, not
// 10,000 buffers.
//
// On Linux, requests that share connections (open and batch arrivals,
// client.Request.ShareConns) wait for their responses on an epoll
// instance of the package's own, which each of them polls before it
// waits (poll_linux.go): Go's poller looks at the network only when the
// process has nothing else to run or every 10 ms, and a generator behind
// its schedule always has something to run. Closed-model requests wait
// in Go's poller, which costs them less.
//
// Its rules for reading responses follow net/http's where RFC 9112
// leaves room; FuzzParseResponse checks the parser against
// http.ReadResponse and names every deliberate difference, and the
// conformance tests (conformance_test.go) run both transports against
// the same real servers.
package h1
