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
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// replayFFmpeg feeds the recorded ffmpeg run to f, stderr first (ffmpeg
// prints the input's Duration before it starts encoding), the way Run splits
// its output into lines, and returns the reports.
func replayFFmpeg(t *testing.T, f *ffmpegProgress, streams ...string) []Progress {
	t.Helper()
	var got []Progress
	var last int32
	for _, name := range streams {
		file, err := os.Open(filepath.Join("testdata", "ffmpeg", name))
		if err != nil {
			t.Fatal(err)
		}
		copyLines(file, io.Discard, 1<<20, func(line []byte, _ bool) {
			if p, ok := f.line(line, last); ok {
				got = append(got, p)
				last = p.Percent
			}
		})
		_ = file.Close()
	}
	return got
}

func percents(ps []Progress) []int32 {
	out := make([]int32, len(ps))
	for i, p := range ps {
		out[i] = p.Percent
	}
	return out
}

func TestFFmpegProgressFromTheRecordedRun(t *testing.T) {
	var f ffmpegProgress
	got := replayFFmpeg(t, &f, "progress-stderr.txt", "progress-stdout.txt")
	if f.detected != 4*time.Second {
		t.Errorf("detected duration %v, want 4s from %q", f.detected, "Duration: 00:00:04.00")
	}
	// out_time_us of each block over 4 s, rounded down; 100 only at progress=end.
	want := []int32{1, 6, 13, 20, 26, 33, 38, 45, 52, 58, 64, 71, 78, 84, 90, 96, 100}
	if diff := cmp.Diff(want, percents(got)); diff != "" {
		t.Errorf("percents (-want +got):\n%s", diff)
	}
	if len(got) != len(want) {
		return
	}
	if diff := cmp.Diff(Progress{Percent: 1, Step: "ffmpeg", Message: "00:00:00.04 of 00:00:04.00, frame 1, speed 0.465x"}, got[0]); diff != "" {
		t.Errorf("first report (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Progress{Percent: 100, Step: "ffmpeg", Message: "00:00:04.01 of 00:00:04.00, frame 100, speed 0.994x"}, got[len(got)-1]); diff != "" {
		t.Errorf("last report (-want +got):\n%s", diff)
	}
}

func TestFFmpegExplicitDurationWins(t *testing.T) {
	// As with -t 2: the input lasts 4 s, the output 2.
	f := ffmpegProgress{explicit: 2 * time.Second}
	got := replayFFmpeg(t, &f, "progress-stderr.txt", "progress-stdout.txt")
	want := []int32{2, 13, 27, 40, 53, 66, 77, 91, 99, 99, 99, 99, 99, 99, 99, 99, 100}
	if diff := cmp.Diff(want, percents(got)); diff != "" {
		t.Errorf("percents (-want +got):\n%s", diff)
	}
}

func TestFFmpegWithoutDuration(t *testing.T) {
	var f ffmpegProgress
	got := replayFFmpeg(t, &f, "progress-stdout.txt") // no stderr: no Duration line
	want := append(make([]int32, 16), 100)
	if diff := cmp.Diff(want, percents(got)); diff != "" {
		t.Errorf("percents (-want +got):\n%s", diff)
	}
	if len(got) > 0 && got[0].Message != "00:00:00.04, frame 1, speed 0.465x" {
		t.Errorf("message %q, want the time without a total", got[0].Message)
	}
}

func TestFFmpegBlocksWithoutATime(t *testing.T) {
	// At the start ffmpeg may not know the time yet; Duration: N/A is a stream.
	in := strings.Join([]string{
		"  Duration: N/A, start: 0.000000, bitrate: N/A",
		"  Duration: 00:01:40.00, start: 0.000000, bitrate: 1411 kb/s",
		"frame=0", "out_time_us=N/A", "out_time_ms=N/A", "out_time=N/A", "speed=N/A", "progress=continue",
		"out_time_us=-9223372036854775807", "progress=continue",
		// Without out_time_us, out_time counts; a stats line from stderr in
		// between changes nothing.
		"out_time=00:00:50.000000",
		"frame=   58 fps= 24 q=2.0 size=      62kB time=00:00:02.34 bitrate= 216.5kbits/s speed=0.973x",
		"progress=continue",
		// out_time_ms is microseconds, and wins over out_time.
		"out_time_ms=75000000", "out_time=00:00:01.000000", "progress=continue",
		"progress=end",
	}, "\n")
	var f ffmpegProgress
	var got []Progress
	copyLines(strings.NewReader(in), io.Discard, 1<<20, func(line []byte, _ bool) {
		if p, ok := f.line(line, 7); ok {
			got = append(got, p)
		}
	})
	want := []Progress{
		{Percent: 50, Step: "ffmpeg", Message: "00:00:50.00 of 00:01:40.00"},
		{Percent: 75, Step: "ffmpeg", Message: "00:01:15.00 of 00:01:40.00"},
		{Percent: 100, Step: "ffmpeg", Message: ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
}

func TestParseFFmpegDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"93.5":        93500 * time.Millisecond,
		"4":           4 * time.Second,
		"00:01:33.50": 93500 * time.Millisecond,
		"01:33.5":     93500 * time.Millisecond,
		"120:00:00":   120 * time.Hour,
		"1m33.5s":     93500 * time.Millisecond,
		"0":           0,
	} {
		got, err := ParseFFmpegDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseFFmpegDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "N/A", "1:2:3:4", "00:60:00", "00:00:61", "1.5:00", "abc", "1h-2m", "1e400", "00::01"} {
		if d, err := ParseFFmpegDuration(in); err == nil {
			t.Errorf("ParseFFmpegDuration(%q) = %v, want an error", in, d)
		}
	}
}
