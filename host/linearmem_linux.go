package host

import "golang.org/x/sys/unix"

// MAP_NORESERVE: the kernel charges no swap space for the reservation.
const mapFlags = unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_NORESERVE
