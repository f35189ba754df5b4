package gpu

import (
	"os"
	"os/exec"
	"testing"
)

// A build without cgo compiles, Inspect works in it, and Load says what to
// do. (Runs in every build: it builds a small program with CGO_ENABLED=0.)
func TestBuildWithoutCgo(t *testing.T) {
	cmd := exec.Command("go", "run", "./testdata/nocgo", digitsOnnx)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run ./testdata/nocgo with CGO_ENABLED=0: %v\n%s", err, out)
	}
	want := `load: model stage "digits": wasinfer was built without cgo: model stages need a cgo build; rebuild with CGO_ENABLED=1
inspect: pixels float32[N,1,8,8]
`
	if string(out) != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out, want)
	}
}
