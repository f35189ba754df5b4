package pipeline

import (
	"errors"
	"strconv"
	"strings"

	"github.com/wasinfer/wasinfer/dataset"
)

// SourceSpec is the dataset package's: the pipeline file's source: takes
// exactly its fields.
type SourceSpec = dataset.SourceSpec

// SinkSpec is the dataset package's: sink: and dead_letter: take exactly
// its fields.
type SinkSpec = dataset.SinkSpec

func (s *Spec) checkSource(ps *problems) {
	if _, set := s.pos.keys["source"]; !set {
		s.problem(ps, "source", "the pipeline has no source: (add source: {format: parquet, paths: [data/*.parquet]})")
		return
	}
	s.specProblem(ps, "source", s.Source.Validate())
	for i, p := range s.Source.Paths {
		if _, err := s.ResolvePath(p); err != nil {
			s.problem(ps, "source.paths["+strconv.Itoa(i)+"]", "%v", err)
		}
	}
}

func (s *Spec) checkSink(ps *problems) {
	if _, set := s.pos.keys["sink"]; !set {
		s.problem(ps, "sink", "the pipeline has no sink: (add sink: {format: parquet, path: out/})")
		return
	}
	s.checkSinkSpec(ps, "sink", &s.Sink)
}

func (s *Spec) checkSinkSpec(ps *problems, path string, spec *SinkSpec) {
	s.specProblem(ps, path, spec.Validate())
	if spec.Path != "" {
		if _, err := s.ResolvePath(spec.Path); err != nil {
			s.problem(ps, path+".path", "%v", err)
		}
	}
}

// specProblem reports a dataset spec error against the field it names.
func (s *Spec) specProblem(ps *problems, path string, err error) {
	if err == nil {
		return
	}
	var se *dataset.SpecError
	if errors.As(err, &se) {
		field := path + "." + se.Field
		if strings.HasPrefix(se.Field, "[") {
			field = path + se.Field
		}
		s.problem(ps, field, "%s", se.Msg)
		return
	}
	s.problem(ps, path, "%v", err)
}
