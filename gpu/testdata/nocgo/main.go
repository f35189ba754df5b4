// Command nocgo is built with CGO_ENABLED=0 by gpu's TestBuildWithoutCgo:
// it prints what a build without cgo says about a model stage, and that
// Inspect still works there.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/wasinfer/wasinfer/gpu"
)

func main() {
	_, err := gpu.Load(context.Background(), os.Args[1])
	fmt.Println("load:", err)
	m, err := gpu.Inspect(os.Args[1])
	if err != nil {
		fmt.Println("inspect:", err)
		os.Exit(1)
	}
	fmt.Println("inspect:", m.Inputs[0].Name, m.Inputs[0].Type())
}
