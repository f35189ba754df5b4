package udfs

import (
	"fmt"
	"math"
	"strings"
	"unicode"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func init() {
	generators["text_normalize"] = textNormalizeVectors
	generators["wordpiece"] = wordpieceVectors
	generators["ctc_decode"] = ctcVectors
}

type textNorm struct {
	lower, control, punct, collapse bool
	maxChars                        int
}

func isASCIIPunct(r rune) bool {
	return r < 128 && unicode.IsPunct(r) || strings.ContainsRune("$+<=>^`|~", r)
}

// normalizeText is the reference of text_normalize (vectors avoid the
// characters whose lowercase differs between Go's and Rust's tables).
func normalizeText(s string, o textNorm) string {
	var out []rune
	pending := false
	limit := o.maxChars
	if limit == 0 {
		limit = math.MaxInt
	}
	for _, r := range s {
		if o.control && unicode.IsControl(r) && !unicode.IsSpace(r) {
			continue
		}
		if o.punct && isASCIIPunct(r) {
			continue
		}
		if o.collapse && unicode.IsSpace(r) {
			pending = len(out) > 0
			continue
		}
		if pending {
			pending = false
			if len(out) >= limit {
				break
			}
			out = append(out, ' ')
		}
		if o.lower {
			r = unicode.ToLower(r)
		}
		if len(out) >= limit {
			break
		}
		out = append(out, r)
	}
	if o.collapse {
		for len(out) > 0 && out[len(out)-1] == ' ' {
			out = out[:len(out)-1]
		}
	}
	return string(out)
}

func textNormalizeVectors(mem memory.Allocator) []vector {
	texts := []string{"  Hello,   World!  ", "", "Crème Brûlée\tÀ LA\nCARTE", "ΑΒΓ ΣΊΣΥΦΟΣ", "tab\x01bell\x07 end", "日本語 テキスト", "ÅNGSTRÖM  ", "x"}
	valid := []bool{true, true, true, true, true, true, true, false}
	def := textNorm{lower: true, control: true, collapse: true}
	var want []string
	for _, t := range texts {
		want = append(want, normalizeText(t, def))
	}
	in1 := batch(col{name: "id", arr: int64Col(mem, 0, 1, 2, 3, 4, 5, 6, 7)}, col{name: "text", arr: utf8Col(mem, texts, valid), nullable: true})
	out1 := batch(col{name: "id", arr: int64Col(mem, 0, 1, 2, 3, 4, 5, 6, 7)}, col{name: "text", arr: utf8Col(mem, want, valid), nullable: true})

	o2 := textNorm{lower: false, control: true, punct: true, collapse: true, maxChars: 8}
	texts2 := []string{"Hello, World!  How are you?", "a.b.c", "   ...   "}
	var want2 []string
	for _, t := range texts2 {
		want2 = append(want2, normalizeText(t, o2))
	}
	in2 := batch(col{name: "body", arr: utf8Col(mem, texts2, nil), nullable: true})
	out2 := batch(col{name: "body", arr: utf8Col(mem, texts2, nil), nullable: true}, col{name: "clean", arr: utf8Col(mem, want2, nil), nullable: true})
	in3 := batch(col{name: "text", arr: int64Col(mem, 1)})
	return []vector{
		{file: "01", in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"column":"body","output":"clean","lowercase":false,"remove_punctuation":true,"max_chars":8}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
		{file: "03", in: []arrow.RecordBatch{in3}, errorText: `column "text": format "l"; want utf8 or large_utf8`},
	}
}

// wordpieceRef is the reference of wordpiece (lowercase, special tokens).
type wpRef struct {
	vocab              map[string]int32
	lower, special     bool
	maxLen, maxWord    int
	unk, cls, sep, pad int32
}

func isCJK(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF || r >= 0x20000 && r <= 0x2A6DF ||
		r >= 0x2A700 && r <= 0x2CEAF || r >= 0xF900 && r <= 0xFAFF || r >= 0x2F800 && r <= 0x2FA1F
}

func (w wpRef) words(s string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = nil
		}
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			flush()
		case unicode.IsControl(r) || r == 0xfffd || r == 0:
		case isASCIIPunct(r) || isCJK(r):
			flush()
			words = append(words, string(r))
		case w.lower:
			cur = append(cur, unicode.ToLower(r))
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

func (w wpRef) tokenize(s string) []int32 {
	budget := w.maxLen
	if w.special {
		budget -= 2
	}
	var ids []int32
	for _, word := range w.words(s) {
		if len(ids) >= budget {
			break
		}
		rs := []rune(word)
		if len(rs) > w.maxWord {
			ids = append(ids, w.unk)
			continue
		}
		var pieces []int32
		ok := true
		for start := 0; start < len(rs); {
			end, found := len(rs), int32(-1)
			for ; start < end; end-- {
				p := string(rs[start:end])
				if start > 0 {
					p = "##" + p
				}
				if id, hit := w.vocab[p]; hit {
					found = id
					break
				}
			}
			if found < 0 {
				ok = false
				break
			}
			pieces = append(pieces, found)
			start = end
		}
		if !ok {
			pieces = []int32{w.unk}
		}
		ids = append(ids, pieces...)
	}
	ids = ids[:min(len(ids), budget)]
	if w.special {
		ids = append(append([]int32{w.cls}, ids...), w.sep)
	}
	return ids
}

var vocab = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "un", "##aff", "##able", "dog", "##s", "run", "##ning", ",", "!", "日", "本", "a", "##b", "##c", "é", "##té"}

func wordpieceVectors(mem memory.Allocator) []vector {
	v := map[string]int32{}
	for i, t := range vocab {
		v[t] = int32(i)
	}
	w := wpRef{vocab: v, lower: true, special: true, maxLen: 128, maxWord: 100, unk: 1, cls: 2, sep: 3, pad: 0}
	texts := []string{"The dogs, running!", "unaffable", "", "日本 xyz", "abc ABC été", "x"}
	valid := []bool{true, true, true, true, true, false}
	var ids, mask [][]int32
	for i, t := range texts {
		if !valid[i] {
			ids, mask = append(ids, nil), append(mask, nil)
			continue
		}
		t := w.tokenize(t)
		m := make([]int32, len(t))
		for k := range m {
			m[k] = 1
		}
		ids, mask = append(ids, t), append(mask, m)
	}
	cfg1 := `{"vocab":` + jsonList(vocab) + `}`
	in1 := batch(col{name: "text", arr: utf8Col(mem, texts, valid), nullable: true})
	out1 := batch(col{name: "text", arr: utf8Col(mem, texts, valid), nullable: true},
		col{name: "input_ids", arr: listI32(mem, ids), nullable: true},
		col{name: "attention_mask", arr: listI32(mem, mask), nullable: true})

	// Padded to 6, truncated, not lowercased.
	w2 := w
	w2.lower, w2.maxLen = false, 6
	texts2 := []string{"the dogs run the dogs run", "The", ""}
	var flat, flatMask []int32
	for _, t := range texts2 {
		ids := w2.tokenize(t)
		row, m := make([]int32, 6), make([]int32, 6)
		copy(row, ids)
		for k := range ids {
			m[k] = 1
		}
		flat, flatMask = append(flat, row...), append(flatMask, m...)
	}
	i32 := arrow.PrimitiveTypes.Int32
	cfg2 := `{"vocab":` + jsonList(vocab) + `,"column":"q","lowercase":false,"max_length":6,"pad":true}`
	in2 := batch(col{name: "q", arr: utf8Col(mem, texts2, nil), nullable: true})
	out2 := batch(col{name: "q", arr: utf8Col(mem, texts2, nil), nullable: true},
		col{name: "input_ids", arr: tensorCol(mem, i32, []int{6}, flat, nil), nullable: true},
		col{name: "attention_mask", arr: tensorCol(mem, i32, []int{6}, flatMask, nil), nullable: true})
	return []vector{
		{file: "01", config: cfg1, in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: cfg2, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
	}
}

func jsonList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = `"` + v + `"`
	}
	return "[" + strings.Join(q, ",") + "]"
}

// ctcRef decodes one [T, C] row.
func ctcRef(x []float32, steps, classes, blank int, dict []string, softmax bool) (string, float32) {
	var b strings.Builder
	sum, kept, prev := 0.0, 0, -2
	for t := range steps {
		step := x[t*classes : (t+1)*classes]
		best := -1
		for k, v := range step {
			if v == v && (best < 0 || v > step[best]) {
				best = k
			}
		}
		if best < 0 || best == prev {
			prev = best
			continue
		}
		prev = best
		if best == blank {
			continue
		}
		k := best
		if best > blank {
			k--
		}
		if k >= len(dict) {
			continue
		}
		b.WriteString(dict[k])
		p := float64(step[best])
		if softmax {
			m, z := float64(step[best]), 0.0
			for _, v := range step {
				if v == v {
					z += math.Exp(float64(v) - m)
				}
			}
			p = 1 / z
		}
		sum += p
		kept++
	}
	if kept == 0 {
		return b.String(), 0
	}
	return b.String(), float32(sum / float64(kept))
}

// ctcStrictError is ctc_decode's refusal, with strict, of a tensor of
// classes classes per step over a dictionary of dictLen entries.
func ctcStrictError(column string, classes, dictLen int) string {
	if classes == dictLen+1 {
		return ""
	}
	return fmt.Sprintf(`column %q: %d classes per step, but the dictionary lists %d (+ the blank = %d): list every class but the blank, in order (PaddleOCR: the lines of its keys file, then " ")`,
		column, classes, dictLen, dictLen+1)
}

func ctcVectors(mem memory.Allocator) []vector {
	dict := []string{"a", "b", "c", "é", "日"}
	f32 := arrow.PrimitiveTypes.Float32
	// 3 rows of [6, 6]: probabilities with repeats, blanks and a null row.
	onehot := func(seq []int, p float32) []float32 {
		out := make([]float32, 6*6)
		for t, k := range seq {
			for c := range 6 {
				out[t*6+c] = (1 - p) / 5
			}
			out[t*6+k] = p
		}
		return out
	}
	var x []float32
	x = append(x, onehot([]int{1, 1, 0, 1, 2, 2}, 0.9)...) // a a _ a b b -> "aab"
	x = append(x, onehot([]int{0, 0, 0, 0, 0, 0}, 0.8)...) // blanks -> ""
	x = append(x, onehot([]int{4, 5, 5, 0, 5, 3}, 0.6)...) // é 日 日 _ 日 c -> "é日日c"
	x[2*36+7] = 0.6                                        // a tie at t=1: the lower index (class 1) wins
	valid := []bool{true, true, true, false}
	x = append(x, make([]float32, 36)...)
	var texts []string
	var conf []float32
	for r := range 4 {
		if !valid[r] {
			texts, conf = append(texts, ""), append(conf, 0)
			continue
		}
		s, c := ctcRef(x[r*36:(r+1)*36], 6, 6, 0, dict, false)
		texts, conf = append(texts, s), append(conf, c)
	}
	cfg := `{"dictionary":["a","b","c","é","日"]}`
	in1 := batch(col{name: "logits", arr: tensorCol(mem, f32, []int{6, 6}, x, valid), nullable: true})
	out1 := batch(col{name: "logits", arr: tensorCol(mem, f32, []int{6, 6}, x, valid), nullable: true},
		col{name: "text", arr: utf8Col(mem, texts, valid), nullable: true},
		col{name: "confidence", arr: float32Col(mem, conf, valid), nullable: true})

	// Logits with softmax, [1, T, C], blank last, a class past the dictionary.
	y := []float32{2, 0, 0, -1, 5, 0, 1, 1, 9, 0, 3, 7, 0, 0, 0, 8}
	s2, c2 := ctcRef(y, 4, 4, 3, []string{"x", "y"}, true)
	in2 := batch(col{name: "rec", arr: tensorCol(mem, f32, []int{1, 4, 4}, y, nil), nullable: true})
	out2 := batch(col{name: "rec", arr: tensorCol(mem, f32, []int{1, 4, 4}, y, nil), nullable: true},
		col{name: "label", arr: utf8Col(mem, []string{s2}, nil), nullable: true},
		col{name: "p", arr: float32Col(mem, []float32{c2}, nil), nullable: true})
	in3 := batch(col{name: "logits", arr: tensorCol(mem, f32, []int{2, 2, 2}, make([]float32, 8), nil), nullable: true})

	// drop_input and strict: the rows of vector 01 between two other
	// columns, 6 classes = 5 characters + the blank; the output has the
	// other columns, then text and confidence, and no scores.
	ids := []int64{10, 11, 12, 13}
	paths := []string{"a.png", "b.png", "c.png", ""}
	if msg := ctcStrictError("logits", 6, len(dict)); msg != "" {
		panic(msg)
	}
	in4 := batch(col{name: "id", arr: int64Col(mem, ids...)},
		col{name: "logits", arr: tensorCol(mem, f32, []int{6, 6}, x, valid), nullable: true},
		col{name: "path", arr: utf8Col(mem, paths, nil), nullable: true})
	out4 := batch(col{name: "id", arr: int64Col(mem, ids...)},
		col{name: "path", arr: utf8Col(mem, paths, nil), nullable: true},
		col{name: "text", arr: utf8Col(mem, texts, valid), nullable: true},
		col{name: "confidence", arr: float32Col(mem, conf, valid), nullable: true})
	// strict with a dictionary that lacks a class (PaddleOCR's trailing
	// space forgotten): refused, before any row is decoded.
	short := dict[:4]
	in5 := batch(col{name: "probs", arr: tensorCol(mem, f32, []int{6, 6}, x, valid), nullable: true})
	return []vector{
		{file: "01", config: cfg, in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"dictionary":["x","y"],"blank":2,"softmax":true,"column":"rec","text":"label","confidence":"p"}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
		{file: "03", config: cfg, in: []arrow.RecordBatch{in3}, errorText: `column "logits": tensor shape [2, 2, 2]; want [T, C] or [1, T, C]`},
		{file: "04", config: `{"dictionary":["a","b","c","é","日"],"drop_input":true,"strict":true}`, in: []arrow.RecordBatch{in4}, out: []arrow.RecordBatch{out4}},
		{file: "05", config: `{"dictionary":` + jsonList(short) + `,"strict":true,"column":"probs"}`, in: []arrow.RecordBatch{in5}, errorText: ctcStrictError("probs", 6, len(short))},
	}
}
