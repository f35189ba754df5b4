package host

import (
	"bytes"
	"log/slog"
)

const (
	maxLogLine      = 4096 // bytes kept of one line
	maxLinesPerCall = 100  // lines logged per guest call; the rest are counted
)

// lineWriter turns a guest's stdout or stderr into log records, one per line,
// tagged with the UDF's name. It is used by one instance, hence one goroutine
// at a time.
type lineWriter struct {
	log     *slog.Logger
	udf     string
	stream  string
	partial []byte
	lines   int
	dropped int
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = appendCapped(w.partial, p)
			break
		}
		w.partial = appendCapped(w.partial, p[:i])
		w.emit()
		p = p[i+1:]
	}
	return n, nil
}

func appendCapped(dst, src []byte) []byte {
	room := maxLogLine - len(dst)
	if room <= 0 {
		return dst
	}
	if len(src) > room {
		src = src[:room]
	}
	return append(dst, src...)
}

func (w *lineWriter) emit() {
	if w.lines < maxLinesPerCall {
		w.log.Info(string(w.partial), "udf", w.udf, "stream", w.stream)
		w.lines++
	} else {
		w.dropped++
	}
	w.partial = w.partial[:0]
}

// endCall flushes a partial line and reports lines dropped during the call.
func (w *lineWriter) endCall() {
	if len(w.partial) > 0 {
		w.emit()
	}
	if w.dropped > 0 {
		w.log.Warn("guest output lines dropped", "udf", w.udf, "stream", w.stream, "dropped", w.dropped)
	}
	w.lines, w.dropped = 0, 0
}
