package precompile

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/wasinfer/wasinfer/host"
	"github.com/wasinfer/wasinfer/manifest"
)

func TestPrecompile(t *testing.T) {
	for _, path := range strings.Fields(os.Getenv("WASINFER_PRECOMPILE")) {
		wasm, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		opts := []host.Option{host.WithPoolSize(1)}
		if data, err := manifest.Extract(wasm); err == nil {
			var m struct {
				Config struct{ Example json.RawMessage } `json:"config"`
			}
			if json.Unmarshal(data, &m) == nil && len(m.Config.Example) > 0 {
				opts = append(opts, host.WithConfig(m.Config.Example))
			}
		}
		ctx := context.Background()
		u, err := host.Load(ctx, wasm, opts...)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := u.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
