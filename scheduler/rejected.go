package scheduler

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/wasinfer/wasinfer/dataset"
)

// sourceRejects moves the rows a reader rejected (dataset.Rejecter: bad
// rows the source was allowed to skip) to the dead-letter sink under stage
// "source", with row -1 and as input a JSON object of the file, line,
// column and raw bytes (a string when they are UTF-8, else base64). Without
// a dead-letter sink they are counted and warned about.
func (r *run) sourceRejects(sp *splitRun, rj dataset.Rejecter, seq int64) error {
	list := rj.Rejected()
	if len(list) == 0 {
		return nil
	}
	r.srcStats.erroredRows.Add(int64(len(list)))
	if r.p.dead == nil || r.mode == modeTake {
		r.mu.Lock()
		r.warnLocked(fmt.Sprintf("split %s: the source skipped %d bad rows and there is no dead-letter sink to keep them (call DeadLetters); first: %v", sp.sp.ID, len(list), list[0].Err))
		r.mu.Unlock()
		return nil
	}
	rows := make([]dlRow, len(list))
	for i, rej := range list {
		in := map[string]any{"file": rej.File, "line": rej.Line, "column": rej.Column}
		if utf8.Valid(rej.Raw) {
			in["raw"] = string(rej.Raw)
		} else {
			in["raw"] = rej.Raw
		}
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding a rejected row: %w", err)
		}
		msg := "bad row"
		if rej.Err != nil {
			msg = rej.Err.Error()
		}
		rows[i] = dlRow{stage: "source", msg: msg, attempts: 1, seq: seq, row: -1, input: string(b)}
	}
	if err := r.appendDeadLetters(sp, rows); err != nil {
		return err
	}
	r.srcStats.deadRows.Add(int64(len(list)))
	return nil
}
