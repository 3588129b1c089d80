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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// fileStamp identifies a version of a file, to tell whether the command wrote
// the termination message itself.
type fileStamp struct {
	size    int64
	modTime time.Time
}

func stampOf(path string) (fileStamp, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, false
	}
	return fileStamp{fi.Size(), fi.ModTime()}, true
}

// wroteItself reports whether the file at path changed since before and is
// not empty: the command wrote its own termination message, which the
// entrypoint then leaves alone.
func wroteItself(path string, before fileStamp, existed bool) bool {
	after, ok := stampOf(path)
	return ok && after.size > 0 && (!existed || after != before)
}

// resultError is a successful command's result that cannot be kept.
type resultError struct{ msg string }

func (e *resultError) Error() string { return e.msg }

// pickResult chooses a successful command's result: the result file when it
// exists and is not empty; else nothing when the command wrote its own
// termination message (commandWrote), which stays the result as it was before
// the entrypoint; else the last JSON object line of stdout. It returns nil
// when there is none.
func pickResult(resultFile string, commandWrote bool, obs *observer) ([]byte, string, error) {
	if resultFile != "" {
		data, err := os.ReadFile(resultFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, "", &resultError{fmt.Sprintf("cannot read the result file %s: %v", resultFile, err)}
		case len(bytes.TrimSpace(data)) == 0:
		case len(data) > MaxResultBytes:
			return nil, "", &resultError{fmt.Sprintf("the result file %s has %d bytes, more than the %d a result may have; store large outputs as artifacts and return their location", resultFile, len(data), MaxResultBytes)}
		case !json.Valid(data):
			return nil, "", &resultError{fmt.Sprintf("the result file %s is not valid JSON", resultFile)}
		default:
			return data, "result file", nil
		}
	}
	if commandWrote {
		return nil, "", nil
	}
	line, large := obs.result()
	if large {
		return nil, "", &resultError{fmt.Sprintf("the last JSON line of stdout has more than the %d bytes a result may have; store large outputs as artifacts and return their location", MaxResultBytes)}
	}
	if line != nil {
		return line, "stdout", nil
	}
	return nil, "", nil
}

// deliverResult keeps result: in the termination message when it is small,
// through the result callback otherwise.
func deliverResult(ctx context.Context, result []byte, cb *callbacks, terminationLog string) error {
	var compact bytes.Buffer
	if err := json.Compact(&compact, result); err == nil {
		result = compact.Bytes()
	}
	switch {
	case len(result) <= MaxTerminationResultBytes:
		if err := os.WriteFile(terminationLog, result, 0o644); err != nil {
			return &resultError{fmt.Sprintf("cannot write the result to the termination message %s: %v", terminationLog, err)}
		}
		return nil
	case len(result) > MaxResultBytes:
		return &resultError{fmt.Sprintf("the result has %d bytes, more than the %d a result may have; store large outputs as artifacts and return their location", len(result), MaxResultBytes)}
	case cb == nil:
		return &resultError{fmt.Sprintf("the result has %d bytes, more than the %d of a termination message, and no result callback is configured (%s, %s and the token file)", len(result), MaxTerminationResultBytes, EnvCallbackURL, EnvJobID)}
	}
	if err := cb.putResult(ctx, result); err != nil {
		// The log has the error; the message, which clients see, only what
		// happened, not the cluster's addresses.
		cb.log.Error(err, "Could not upload the result", "bytes", len(result))
		why := "it could not be reached"
		var se *statusError
		if errors.As(err, &se) {
			why = se.Error()
		}
		return &resultError{fmt.Sprintf("could not upload the result (%d bytes) to the result callback: %s", len(result), why)}
	}
	return nil
}

// failureMessage is the termination message of a failed command: how it
// ended, then as many of its last output lines as fit in
// MaxFailureMessageBytes, the most recent kept.
func failureMessage(summary string, lines []string) string {
	msg := clip(summary, MaxFailureMessageBytes)
	room := MaxFailureMessageBytes - len(msg)
	start := len(lines)
	for start > 0 && len(lines[start-1])+1 <= room {
		room -= len(lines[start-1]) + 1
		start--
	}
	if start == len(lines) {
		return msg
	}
	return msg + "\n" + strings.Join(lines[start:], "\n")
}
