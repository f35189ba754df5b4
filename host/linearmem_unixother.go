//go:build unix && !linux

package host

import "golang.org/x/sys/unix"

const mapFlags = unix.MAP_PRIVATE | unix.MAP_ANON
