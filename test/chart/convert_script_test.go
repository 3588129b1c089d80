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

package chart

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runConvert runs the chart's convert script (files/convert.sh) as the
// entrypoint would, with this machine's ffmpeg: in the inputs directory,
// the parameters as ASYNCJOB_PARAM_* variables.
func runConvert(t *testing.T, inputs, outputs string, params map[string]string) (stdout, stderr string, err error) {
	t.Helper()
	script, err := os.ReadFile(filepath.Join(chartDir, "files", "convert.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", string(script), "convert")
	cmd.Dir = inputs
	cmd.Env = append(os.Environ(), "ASYNCJOB_OUTPUTS_DIR="+outputs)
	for k, v := range params {
		cmd.Env = append(cmd.Env, "ASYNCJOB_PARAM_"+strings.ToUpper(k)+"="+v)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

type media struct {
	video, audio  string
	width, height int
	duration      float64
}

func probeFile(t *testing.T, path string) media {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries",
		"stream=codec_type,codec_name,width,height:format=duration", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var doc struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			CodecName string `json:"codec_name"`
			Width     int    `json:"width"`
			Height    int    `json:"height"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var m media
	for _, s := range doc.Streams {
		switch s.CodecType {
		case "video":
			m.video, m.width, m.height = s.CodecName, s.Width, s.Height
		case "audio":
			m.audio = s.CodecName
		}
	}
	m.duration, _ = strconv.ParseFloat(doc.Format.Duration, 64)
	return m
}

// The script turns the parameters into ffmpeg's command line: each
// format's default codecs, the size (one side keeps the aspect ratio), a
// duration cap, audio-only formats without video, the output named after
// the input (never the input's own name), the result as its last line; and
// a corrupt input fails with ffmpeg's own reason last on stderr, which the
// entrypoint puts in the job's problem.
func TestConvertScript(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipped: no %s on this machine (hack/real-node-deps.sh installs it)", tool)
		}
	}
	inputs := t.TempDir()
	if out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=10", "-f", "lavfi", "-i", "sine=duration=2",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest",
		filepath.Join(inputs, "clip.mov")).CombinedOutput(); err != nil {
		t.Fatalf("making the input: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(inputs, "bad.mov"), []byte("not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		params map[string]string
		output string
		want   media
	}{
		{"webm defaults to vp9 and opus", map[string]string{"input": "clip.mov", "format": "webm"}, "clip.webm",
			media{video: "vp9", audio: "opus", width: 320, height: 240, duration: 2}},
		{"mp4 with a width keeps the aspect", map[string]string{"input": "clip.mov", "format": "mp4", "width": "160"}, "clip.mp4",
			media{video: "h264", audio: "aac", width: 160, height: 120, duration: 2}},
		{"codecs and both sides", map[string]string{"input": "clip.mov", "format": "mkv", "videoCodec": "vp8", "audioCodec": "vorbis", "width": "64", "height": "64"}, "clip.mkv",
			media{video: "vp8", audio: "vorbis", width: 64, height: 64, duration: 2}},
		{"mp3 has no video, and a duration cap", map[string]string{"input": "clip.mov", "format": "mp3", "duration": "1"}, "clip.mp3",
			media{audio: "mp3", duration: 1}},
		{"no audio", map[string]string{"input": "clip.mov", "format": "webm", "audioCodec": "none"}, "clip.webm",
			media{video: "vp9", width: 320, height: 240, duration: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outputs := t.TempDir()
			stdout, stderr, err := runConvert(t, inputs, outputs, tc.params)
			if err != nil {
				t.Fatalf("convert: %v\n%s", err, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			var result struct{ Output, Format string }
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &result); err != nil || result.Output != tc.output || result.Format != tc.params["format"] {
				t.Errorf("last line %q (%v), want the result naming %s", lines[len(lines)-1], err, tc.output)
			}
			if !strings.Contains(stdout, "progress=end") {
				t.Errorf("no -progress stream on stdout:\n%s", stdout)
			}
			entries, _ := os.ReadDir(outputs)
			if len(entries) != 1 || entries[0].Name() != tc.output {
				t.Fatalf("outputs %v, want only %s", entries, tc.output)
			}
			got := probeFile(t, filepath.Join(outputs, tc.output))
			if got.video != tc.want.video || got.audio != tc.want.audio || got.width != tc.want.width || got.height != tc.want.height ||
				math.Abs(got.duration-tc.want.duration) > 0.3 {
				t.Errorf("output %+v, want %+v", got, tc.want)
			}
		})
	}

	t.Run("never overwrites its input", func(t *testing.T) {
		outputs := t.TempDir()
		if _, stderr, err := runConvert(t, inputs, outputs, map[string]string{"input": "clip.mov", "format": "mov", "duration": "0.5"}); err != nil {
			t.Fatalf("convert: %v\n%s", err, stderr)
		}
		if _, err := os.Stat(filepath.Join(outputs, "clip.converted.mov")); err != nil {
			t.Errorf("mov from clip.mov: %v, want clip.converted.mov", err)
		}
	})

	t.Run("a corrupt input fails with ffmpeg's reason", func(t *testing.T) {
		_, stderr, err := runConvert(t, inputs, t.TempDir(), map[string]string{"input": "bad.mov", "format": "webm"})
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if err == nil || !strings.Contains(lines[len(lines)-1], "Invalid data found when processing input") {
			t.Errorf("exit %v, last stderr line %q: want a failure with ffmpeg's reason", err, lines[len(lines)-1])
		}
	})
}
