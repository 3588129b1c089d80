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

package entrypoint

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ffmpegStep is the step of progress computed from ffmpeg's -progress stream.
const ffmpegStep = "ffmpeg"

// outTimeUs is the -progress key with the output's time in microseconds.
const outTimeUs = "out_time_us"

// ffmpegProgress follows ffmpeg's -progress stream: blocks of key=value lines,
// each ending in progress=continue or, for the last, progress=end. The percent
// is out_time over the input's duration: the explicit one when set, otherwise
// the first "Duration: HH:MM:SS.cc" line ffmpeg prints for its inputs.
type ffmpegProgress struct {
	explicit time.Duration // from the configuration; wins over detected
	detected time.Duration // from the first valid Duration: line

	// the block being read
	outTime     time.Duration
	outTimeFrom string // the key outTime came from; "" while there is none
	frame       string
	speed       string
}

// duration is the input's duration, 0 while unknown.
func (f *ffmpegProgress) duration() time.Duration {
	if f.explicit > 0 {
		return f.explicit
	}
	return f.detected
}

// line reads one line of ffmpeg's output. It returns a report when the line
// ends a block that carried an out_time; last is the percent reported before,
// kept while the duration is unknown.
func (f *ffmpegProgress) line(l []byte, last int32) (Progress, bool) {
	if f.detected == 0 {
		if i := bytes.Index(l, []byte("Duration: ")); i >= 0 {
			v, _, _ := strings.Cut(string(l[i+len("Duration: "):]), ",")
			if d, err := ParseFFmpegDuration(strings.TrimSpace(v)); err == nil && d > 0 {
				f.detected = d
			}
			return Progress{}, false
		}
	}
	k, v, ok := bytes.Cut(l, []byte("="))
	if !ok || len(k) > len(outTimeUs) { // the longest key read
		return Progress{}, false
	}
	key := string(k)
	switch key {
	case outTimeUs, "out_time_ms", "out_time", "frame", "speed", "progress":
	default:
		return Progress{}, false
	}
	value := string(bytes.TrimSpace(v))
	switch key {
	case outTimeUs, "out_time_ms":
		// out_time_ms is microseconds too: ffmpeg writes the same number under
		// both names.
		if us, err := strconv.ParseInt(value, 10, 64); err == nil && us >= 0 && f.outTimeFrom != outTimeUs {
			f.outTime, f.outTimeFrom = time.Duration(us)*time.Microsecond, key
		}
	case "out_time":
		if d, err := ParseFFmpegDuration(value); err == nil && f.outTimeFrom == "" {
			f.outTime, f.outTimeFrom = d, key
		}
	case "frame":
		// Only a number: ffmpeg's stats line on stderr ("frame=  58 fps= 24
		// ... time=...") starts with frame= too, and may come between
		// -progress lines.
		if _, err := strconv.ParseUint(value, 10, 64); err == nil {
			f.frame = value
		}
	case "speed":
		f.speed = value
	case "progress":
		p, ok := f.report(value == "end", last)
		f.outTime, f.outTimeFrom, f.frame, f.speed = 0, "", "", ""
		return p, ok
	}
	return Progress{}, false
}

func (f *ffmpegProgress) report(end bool, last int32) (Progress, bool) {
	if f.outTimeFrom == "" && !end {
		return Progress{}, false
	}
	p := Progress{Percent: last, Step: ffmpegStep}
	d := f.duration()
	switch {
	case end:
		p.Percent = 100
	case d > 0:
		// 100 only at progress=end: out_time can pass the duration by a frame.
		p.Percent = int32(min(99, f.outTime*100/d))
	}
	var parts []string
	if f.outTimeFrom != "" {
		t := formatFFmpegTime(f.outTime)
		if d > 0 {
			t += " of " + formatFFmpegTime(d)
		}
		parts = append(parts, t)
	}
	if f.frame != "" && f.frame != "0" {
		parts = append(parts, "frame "+f.frame)
	}
	if f.speed != "" && f.speed != "N/A" {
		parts = append(parts, "speed "+f.speed)
	}
	p.Message = clip(strings.Join(parts, ", "), MaxMessageBytes)
	return p, true
}

// ParseFFmpegDuration reads a duration the way ffmpeg writes one:
// [HH:]MM:SS[.fraction] ("00:01:33.50", "01:33.5") or seconds ("93.5").
// A Go duration ("1m33.5s") works too.
func ParseFFmpegDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a duration: use seconds (93.5) or HH:MM:SS.cc (00:01:33.50)", s)
	if s == "" || strings.HasPrefix(s, "-") {
		return 0, bad
	}
	if c := s[len(s)-1]; c < '0' || c > '9' {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return 0, bad
		}
		return d, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return 0, bad
	}
	var seconds float64
	for i, part := range parts {
		last := i == len(parts)-1
		if part == "" || (!last && strings.Contains(part, ".")) {
			return 0, bad
		}
		v, err := strconv.ParseFloat(part, 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || (i > 0 && v >= 60) {
			return 0, bad
		}
		seconds = seconds*60 + v
	}
	if seconds > float64(math.MaxInt64/int64(time.Second)) {
		return 0, errors.New("duration out of range")
	}
	return time.Duration(seconds * float64(time.Second)), nil
}

// formatFFmpegTime writes d as ffmpeg does in its logs: HH:MM:SS.cc.
func formatFFmpegTime(d time.Duration) string {
	cs := d / (10 * time.Millisecond)
	return fmt.Sprintf("%02d:%02d:%02d.%02d", cs/360000, cs/6000%60, cs/100%60, cs%100)
}
