//go:build race

package udfs

func init() { raceEnabled = true }
