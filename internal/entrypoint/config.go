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
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-logr/logr"
)

// The environment the entrypoint reads. docs/worker-contract.md ("The
// entrypoint") documents each.
const (
	EnvCallbackURL      = "ASYNCJOB_CALLBACK_URL"
	EnvJobID            = "ASYNCJOB_ID"
	EnvTokenFile        = "ASYNCJOB_TOKEN_FILE"
	EnvResultFile       = "ASYNCJOB_RESULT_FILE"
	EnvTerminationLog   = "ASYNCJOB_TERMINATION_LOG"
	EnvProgressInterval = "ASYNCJOB_PROGRESS_INTERVAL"
	EnvFlushTimeout     = "ASYNCJOB_FLUSH_TIMEOUT"
	EnvFFmpegDuration   = "ASYNCJOB_FFMPEG_DURATION"
	// The job's files, set by the controller when the type has artifacts
	// (internal/controller/artifacts_pod.go; docs/worker-contract.md, "Files").
	EnvInputsDir  = "ASYNCJOB_INPUTS_DIR"
	EnvOutputsDir = "ASYNCJOB_OUTPUTS_DIR"
	EnvInputs     = "ASYNCJOB_INPUTS"  // JSON array of input names
	EnvOutputs    = "ASYNCJOB_OUTPUTS" // JSON array of path patterns
)

// Defaults.
const (
	DefaultTokenFile        = "/var/run/asyncjob/token"
	DefaultTerminationLog   = "/dev/termination-log"
	DefaultProgressInterval = time.Second
	DefaultFlushTimeout     = 10 * time.Second
	// DefaultTransferRetry is how long a failing download or upload of one
	// file is retried, counted from its first failure.
	DefaultTransferRetry = 2 * time.Minute
)

// Limits.
const (
	// MaxTerminationResultBytes is the largest result written to the
	// termination message. The kubelet keeps 4 KiB per container, but trims
	// a pod's messages to 12 KiB split evenly among all its containers (init
	// containers included): 3 KiB stays whole in a pod of up to four, and a
	// cut result would no longer be JSON.
	MaxTerminationResultBytes = 3 << 10
	// MaxResultBytes is the largest result at all; larger ones belong in an
	// artifact store, with their location in the result.
	MaxResultBytes = 1 << 20
	// MaxFailureMessageBytes is the kubelet's limit of one container's
	// termination message; a cut failure reason is still readable.
	MaxFailureMessageBytes = 4 << 10
)

// Config is what Run needs. ConfigFromEnv fills it from the environment.
type Config struct {
	// Command is the command to run and its arguments.
	Command []string

	// CallbackURL is the API server's base URL; empty disables callbacks.
	CallbackURL string
	// JobID is the job's id; empty disables callbacks.
	JobID string
	// TokenFile holds the job's callback token; when it cannot be read,
	// callbacks are disabled. Empty: DefaultTokenFile.
	TokenFile string
	// ResultFile, when set and the file exists with content when the command
	// succeeds, is the job's result (JSON).
	ResultFile string
	// TerminationLog is the container's terminationMessagePath; empty:
	// DefaultTerminationLog.
	TerminationLog string
	// ProgressInterval is the least time between two progress callbacks; 0
	// sends every change.
	ProgressInterval time.Duration
	// FlushTimeout bounds the final progress callback and the result upload
	// after the command exits; 0: DefaultFlushTimeout.
	FlushTimeout time.Duration
	// FFmpegDuration is the input's duration for ffmpeg's -progress; 0: read
	// it from ffmpeg's own "Duration:" line.
	FFmpegDuration time.Duration

	// InputsDir is where the inputs are downloaded, and the command's working
	// directory; empty: the entrypoint's own working directory.
	InputsDir string
	// OutputsDir is created for the command to write its outputs to.
	OutputsDir string
	// Inputs are the names of the job's inputs, downloaded before the command
	// starts.
	Inputs []string
	// Outputs are the path patterns (filepath.Match) whose files are uploaded
	// as the job's outputs when the command succeeds.
	Outputs []string
	// TransferRetry bounds the retries of one file's download or upload,
	// from its first failure; 0: DefaultTransferRetry.
	TransferRetry time.Duration

	// Stdin, Stdout and Stderr are the entrypoint's own; the command reads
	// Stdin directly and its output is copied to Stdout and Stderr.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// HTTPClient makes the callbacks; nil: a default client.
	HTTPClient *http.Client
	// Log receives the entrypoint's own messages.
	Log logr.Logger
}

// ConfigFromEnv reads the configuration from the environment through getenv
// (os.Getenv). Command, the streams and Log are left for the caller.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		CallbackURL:      getenv(EnvCallbackURL),
		JobID:            getenv(EnvJobID),
		TokenFile:        orDefault(getenv(EnvTokenFile), DefaultTokenFile),
		ResultFile:       getenv(EnvResultFile),
		InputsDir:        getenv(EnvInputsDir),
		OutputsDir:       getenv(EnvOutputsDir),
		TerminationLog:   orDefault(getenv(EnvTerminationLog), DefaultTerminationLog),
		ProgressInterval: DefaultProgressInterval,
		FlushTimeout:     DefaultFlushTimeout,
	}
	for _, d := range []struct {
		env string
		to  *time.Duration
	}{{EnvProgressInterval, &c.ProgressInterval}, {EnvFlushTimeout, &c.FlushTimeout}} {
		if v := getenv(d.env); v != "" {
			parsed, err := time.ParseDuration(v)
			if err != nil || parsed < 0 {
				return c, fmt.Errorf("%s: %q is not a duration such as 1s or 500ms", d.env, v)
			}
			*d.to = parsed
		}
	}
	if v := getenv(EnvFFmpegDuration); v != "" {
		d, err := ParseFFmpegDuration(v)
		if err != nil {
			return c, fmt.Errorf("%s: %w", EnvFFmpegDuration, err)
		}
		c.FFmpegDuration = d
	}
	for _, l := range []struct {
		env string
		to  *[]string
	}{{EnvInputs, &c.Inputs}, {EnvOutputs, &c.Outputs}} {
		if v := getenv(l.env); v != "" {
			if err := json.Unmarshal([]byte(v), l.to); err != nil {
				return c, fmt.Errorf("%s: not a JSON array of strings: %w", l.env, err)
			}
		}
	}
	return c, nil
}

// withDefaults fills what a Config built by hand may leave out.
func (c Config) withDefaults() Config {
	c.TokenFile = orDefault(c.TokenFile, DefaultTokenFile)
	c.TerminationLog = orDefault(c.TerminationLog, DefaultTerminationLog)
	if c.FlushTimeout <= 0 {
		c.FlushTimeout = DefaultFlushTimeout
	}
	if c.TransferRetry <= 0 {
		c.TransferRetry = DefaultTransferRetry
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	if c.Stderr == nil {
		c.Stderr = io.Discard
	}
	return c
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
