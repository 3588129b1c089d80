/*
Copyright 2026 The asyncjob Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package bench

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/procfs"
)

// The report's names of asyncjob's two processes.
const (
	procAPI        = "asyncjob api"
	procController = "asyncjob controller"
)

// ProcUsage is one process's CPU time and memory at one moment.
type ProcUsage struct {
	CPU time.Duration // user + system, since the process started
	RSS uint64        // resident set size, bytes
	HWM uint64        // peak resident set size, bytes
}

// processes samples every named process (name -> pid); a process that is gone
// is left out.
func processes(pids map[string]int) map[string]ProcUsage {
	out := make(map[string]ProcUsage, len(pids))
	for _, name := range slices.Sorted(maps.Keys(pids)) {
		u, err := usageOf(pids[name])
		if err == nil {
			out[name] = u
		}
	}
	return out
}

func usageOf(pid int) (ProcUsage, error) {
	if pid <= 0 {
		return ProcUsage{}, fmt.Errorf("no process")
	}
	p, err := procfs.NewProc(pid)
	if err != nil {
		return ProcUsage{}, err
	}
	stat, err := p.Stat()
	if err != nil {
		return ProcUsage{}, err
	}
	status, err := p.NewStatus()
	if err != nil {
		return ProcUsage{}, err
	}
	return ProcUsage{
		CPU: time.Duration(stat.CPUTime() * float64(time.Second)),
		RSS: status.VmRSS,
		HWM: status.VmHWM,
	}, nil
}

// machineBusy is the CPU time every process on the machine has used since
// boot (user, nice, system, interrupts, steal), from /proc/stat.
func machineBusy() time.Duration {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return 0
	}
	st, err := fs.Stat()
	if err != nil {
		return 0
	}
	c := st.CPUTotal
	return time.Duration((c.User + c.Nice + c.System + c.IRQ + c.SoftIRQ + c.Steal) * float64(time.Second))
}

// othersCPU is the machine's busy time between two samples minus what the
// named processes used: other work sharing the cores with the benchmark.
func othersCPU(machine time.Duration, ours map[string]time.Duration) time.Duration {
	for _, d := range ours {
		machine -= d
	}
	return max(machine, 0)
}

// cpuBetween is each process's CPU time spent between two samples.
func cpuBetween(before, after map[string]ProcUsage) map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, a := range after {
		if b, ok := before[name]; ok {
			out[name] = a.CPU - b.CPU
		}
	}
	return out
}
