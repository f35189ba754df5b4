package scheduler

import (
	"fmt"
	"math"
	"strings"
)

// fitResources checks the stages' requests against the machine, before
// anything starts. GPUs cannot be shared: asking for more than there are
// fails. CPUs can: when the workers ask for more CPUs than there are, each
// stage's workers are scaled down in proportion (at least one each) and a
// warning says so.
func (r *run) fitResources() error {
	var gpus int
	var cpus float64
	var ask []string
	for _, s := range r.stages {
		gpus += s.workers * s.cfg.gpus
		cpus += float64(s.workers) * s.cfg.cpus
		ask = append(ask, fmt.Sprintf("%q %d × %g CPU, %d GPU", s.name, s.workers, s.cfg.cpus, s.cfg.gpus))
	}
	if gpus > r.cfg.gpus {
		return fmt.Errorf("%w: the stages ask for %d GPUs (%s) and this machine has %d (WithGPUs): lower the workers of the GPU stages",
			ErrResources, gpus, strings.Join(ask, "; "), r.cfg.gpus)
	}
	have := float64(r.cfg.cpus)
	if cpus <= have || have <= 0 {
		return nil
	}
	scale := have / cpus
	var got []string
	for _, s := range r.stages {
		if s.cfg.cpus == 0 {
			continue
		}
		w := max(1, int(math.Floor(float64(s.workers)*scale)))
		if w != s.workers {
			got = append(got, fmt.Sprintf("%q %d → %d", s.name, s.workers, w))
			s.workers = w
		}
	}
	if len(got) > 0 {
		r.warnLocked(fmt.Sprintf("the stages ask for %g CPUs (%s) and there are %d: workers capped: %s",
			cpus, strings.Join(ask, "; "), r.cfg.cpus, strings.Join(got, ", ")))
	}
	return nil
}
