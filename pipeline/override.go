package pipeline

import (
	"reflect"
	"strconv"
	"strings"
)

// override applies one "target.key=value" setting from the command line:
// target is source, sink, run, a stage's name, or stages[N]; key is a
// setting's YAML name, dotted for nested ones (on_error.retries); value is
// YAML (so 16, true, 30s, [a, b] and {k: v} all work). Problems are
// reported against "--set target.key=value".
func (s *Spec) override(ps *problems, o string) {
	where := &problems{file: "--set " + o}
	defer func() {
		for _, p := range where.list {
			p.Line, p.Column = 0, 0
			ps.list = append(ps.list, p)
		}
	}()
	lhs, value, ok := strings.Cut(o, "=")
	if !ok || lhs == "" {
		where.add(0, 0, "", "want target.key=value (target: source, sink, run or a stage name), e.g. --set ocr_det.batch_size=8")
		return
	}
	parts := strings.Split(lhs, ".")
	if len(parts) < 2 {
		where.add(0, 0, "", "want target.key=value: %q names no setting (e.g. %s.batch_size=8)", lhs, lhs)
		return
	}
	root := reflect.ValueOf(s).Elem()
	var v reflect.Value
	var path string
	switch parts[0] {
	case "source", "sink", "run":
		v, path = fieldByName(root, parts[0]), parts[0]
	default:
		i := s.stageIndex(parts[0])
		if i < 0 {
			names := make([]string, len(s.Stages))
			for j, st := range s.Stages {
				names[j] = st.Name
			}
			where.add(0, 0, "", "no stage is named %q (stages: %s; or use source, sink, run)", parts[0], strings.Join(names, ", "))
			return
		}
		v, path = root.FieldByName("Stages").Index(i), stagePath(i)
	}
	for _, key := range parts[1:] {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			where.add(0, 0, path, "%s is a single setting: it has no key %q", path, key)
			return
		}
		f := fieldByName(v, key)
		if !f.IsValid() {
			where.add(0, 0, join(path, key), "unknown key %q%s", key, suggest(key, fieldsOf(v.Type())))
			return
		}
		v, path = f, join(path, key)
	}
	d := newDecoder(where)
	n := parseYAML(where, []byte(path[strings.LastIndex(path, ".")+1:]+": "+value))
	if n == nil {
		return
	}
	es, ok := d.entries(d.resolve(n), "")
	if !ok || len(es) != 1 {
		where.add(0, 0, path, "the value %q is not one YAML value", value)
		return
	}
	d.decode(es[0].Value, v, path)
}

func stagePath(i int) string { return "stages[" + strconv.Itoa(i) + "]" }

// stageIndex finds a stage by name, or by "stages[N]".
func (s *Spec) stageIndex(name string) int {
	for i, st := range s.Stages {
		if st.Name == name {
			return i
		}
	}
	for i := range s.Stages {
		if name == stagePath(i) {
			return i
		}
	}
	return -1
}

// fieldByName finds the field of struct v whose YAML name is name.
func fieldByName(v reflect.Value, name string) reflect.Value {
	for _, f := range fieldsOf(v.Type()) {
		if f.name == name {
			return fieldByIndex(v, f.index)
		}
	}
	return reflect.Value{}
}
