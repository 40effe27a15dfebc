//go:build !amd64

package actors

import "unsafe"

// prefetch is a hint only amd64 takes (prefetch_amd64.s); elsewhere the
// loads simply happen when they are needed.
func prefetch(unsafe.Pointer) {}
