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
	"strconv"
	"strings"
	"unicode/utf8"
)

// Progress is one progress report, the body of the progress callback.
type Progress struct {
	Percent int32  `json:"percent"`
	Step    string `json:"step"`
	Message string `json:"message"`
}

// Limits of a progress report's strings, the AsyncJob status's own
// (api/v1alpha1 Progress): longer ones are cut, never rejected.
const (
	MaxStepBytes    = 256
	MaxMessageBytes = 1024
)

// progressPrefix starts a progress line; see parseProgressLine.
const progressPrefix = "::progress"

var errNotProgress = errors.New("not a progress line")

// parseProgressLine reads the generic progress line format:
//
//	::progress <percent>[%] [<step>[: <message>]]
//
// The line starts with "::progress" at its first byte, followed by blanks
// (spaces or tabs) or the end of the line. <percent> is a decimal number from
// 0 to 100 (a fraction is dropped: 99.9 reports 99), optionally followed by
// "%". The rest, if any, is the step up to the first ": " and the message after
// it; without ": " the whole rest is the step, and a rest that starts with ": "
// is a message with no step. A step therefore never contains ": ", a message
// may contain anything. Both are trimmed and cut to MaxStepBytes and
// MaxMessageBytes.
//
// It returns errNotProgress for a line that does not start with the prefix,
// and another error for a line that does but is malformed.
func parseProgressLine(line []byte) (Progress, error) {
	rest, ok := bytes.CutPrefix(line, []byte(progressPrefix))
	if !ok || (len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t') {
		return Progress{}, errNotProgress
	}
	rest = bytes.TrimLeft(rest, " \t")
	numEnd := bytes.IndexAny(rest, " \t")
	if numEnd < 0 {
		numEnd = len(rest)
	}
	pct, err := parsePercent(string(rest[:numEnd]))
	if err != nil {
		return Progress{}, err
	}
	p := Progress{Percent: pct}
	text := strings.TrimSpace(string(rest[numEnd:]))
	if strings.HasPrefix(text, ":") && (len(text) == 1 || text[1] == ' ' || text[1] == '\t') {
		p.Message = text[1:]
	} else if step, msg, found := strings.Cut(text, ": "); found {
		p.Step, p.Message = step, msg
	} else {
		p.Step = text
	}
	p.Step = clip(strings.TrimSpace(p.Step), MaxStepBytes)
	p.Message = clip(strings.TrimSpace(p.Message), MaxMessageBytes)
	return p, nil
}

func parsePercent(s string) (int32, error) {
	s = strings.TrimSuffix(s, "%")
	if s == "" {
		return 0, errors.New("::progress needs a percent from 0 to 100")
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return 0, errors.New("::progress: the percent must be a decimal number from 0 to 100")
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f > 100 {
		return 0, errors.New("::progress: the percent must be a decimal number from 0 to 100")
	}
	return int32(f), nil
}

// clip makes s valid UTF-8 and at most n bytes, cutting at a rune boundary.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
