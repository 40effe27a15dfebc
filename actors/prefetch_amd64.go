package actors

import "unsafe"

// prefetch asks the CPU to bring p's cache line in, without waiting for it
// and without faulting (a hint, never a load: it changes no result). Go
// has no prefetch a package can call, hence the two instructions of
// assembly; see idTable.prefetch for why it pays.
//
//go:noescape
func prefetch(p unsafe.Pointer)
