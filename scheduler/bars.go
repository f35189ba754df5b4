package scheduler

import (
	"fmt"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// bars is the terminal progress display: one mpb bar per stage (and the
// source and sink), rows out as its count, the details as text.
type bars struct {
	r    *run
	p    *mpb.Progress
	bars []*mpb.Bar
}

func newBars(r *run) *bars {
	b := &bars{r: r, p: mpb.New(mpb.WithOutput(r.cfg.progress), mpb.WithRefreshRate(200*time.Millisecond), mpb.WithWidth(40))}
	var total int64
	for _, s := range r.todo {
		if s.Rows < 0 {
			total = 0
			break
		}
		total += s.Rows
	}
	for i, l := range r.progressLines() {
		b.bars = append(b.bars, b.p.New(total, mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name(l.name, decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				ls := r.progressLines()
				if i >= len(ls) {
					return ""
				}
				l := ls[i]
				rate := 0.0
				if el := time.Since(r.start).Seconds(); el > 0 {
					rate = float64(l.rowsOut) / el
				}
				return fmt.Sprintf("%d in, %d out, %.0f rows/s%s", l.rowsIn, l.rowsOut, rate, l.detail)
			})),
		))
	}
	return b
}

func (b *bars) loop(done <-chan struct{}) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		b.update()
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

func (b *bars) update() {
	for i, l := range b.r.progressLines() {
		if i < len(b.bars) {
			b.bars[i].SetCurrent(l.rowsOut)
		}
	}
}

func (b *bars) note(msg string) { fmt.Fprintf(b.p, "wasinfer: warning: %s\n", msg) }

// wait completes every bar and waits for the last render.
func (b *bars) wait() {
	b.update()
	for _, bar := range b.bars {
		bar.SetTotal(-1, true)
	}
	b.p.Wait()
}
