//go:build unix

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

// Unix only (see the build constraint): the entrypoint forwards signals to
// process groups.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/asyncjob/asyncjob/internal/entrypoint"
)

func init() {
	subcommands["entrypoint"] = runEntrypoint
}

// ffmpegDurationFlag parses --ffmpeg-duration as ffmpeg writes durations.
type ffmpegDurationFlag struct{ d *time.Duration }

func (f ffmpegDurationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return f.d.String()
}

func (f ffmpegDurationFlag) Set(s string) error {
	d, err := entrypoint.ParseFFmpegDuration(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// jsonListFlag parses a flag as the environment has it: a JSON array of
// strings.
type jsonListFlag struct{ l *[]string }

func (f jsonListFlag) String() string {
	if f.l == nil || *f.l == nil {
		return ""
	}
	b, _ := json.Marshal(*f.l)
	return string(b)
}

func (f jsonListFlag) Set(s string) error { return json.Unmarshal([]byte(s), f.l) }

// runEntrypoint wraps a job's command: asyncjob entrypoint [flags] -- CMD ARGS...
// It exits with the command's exit code, so it never returns on success.
func runEntrypoint(args []string) error {
	fs := flag.NewFlagSet("asyncjob entrypoint", flag.ContinueOnError)
	fs.Usage = func() {
		_, _ = fmt.Fprintln(fs.Output(), "usage: asyncjob entrypoint [flags] -- COMMAND [ARGS...]\n\nRuns COMMAND as an asyncjob worker: forwards signals, reports its progress and result. Flags override the environment (docs/worker-contract.md, \"The entrypoint\").")
		fs.PrintDefaults()
	}
	cfg, envErr := entrypoint.ConfigFromEnv(os.Getenv)
	fs.StringVar(&cfg.CallbackURL, "callback-url", cfg.CallbackURL, "Base URL of the API server's worker callbacks (env "+entrypoint.EnvCallbackURL+"); empty disables callbacks.")
	fs.StringVar(&cfg.JobID, "job-id", cfg.JobID, "The job's id (env "+entrypoint.EnvJobID+").")
	fs.StringVar(&cfg.TokenFile, "token-file", cfg.TokenFile, "File with the job's callback token (env "+entrypoint.EnvTokenFile+").")
	fs.StringVar(&cfg.ResultFile, "result-file", cfg.ResultFile, "File the command writes its JSON result to (env "+entrypoint.EnvResultFile+"); otherwise the last JSON object line of stdout.")
	fs.StringVar(&cfg.TerminationLog, "termination-log", cfg.TerminationLog, "The container's terminationMessagePath (env "+entrypoint.EnvTerminationLog+").")
	fs.DurationVar(&cfg.ProgressInterval, "progress-interval", cfg.ProgressInterval, "Least time between two progress callbacks (env "+entrypoint.EnvProgressInterval+").")
	fs.DurationVar(&cfg.FlushTimeout, "flush-timeout", cfg.FlushTimeout, "Time allowed for the last progress and the result upload after the command exits (env "+entrypoint.EnvFlushTimeout+").")
	fs.Var(ffmpegDurationFlag{&cfg.FFmpegDuration}, "ffmpeg-duration", "The input's duration for ffmpeg -progress, seconds or HH:MM:SS.cc (env "+entrypoint.EnvFFmpegDuration+"); wins over ffmpeg's Duration line.")
	fs.StringVar(&cfg.InputsDir, "inputs-dir", cfg.InputsDir, "Directory the inputs are downloaded to, and the command's working directory (env "+entrypoint.EnvInputsDir+").")
	fs.StringVar(&cfg.OutputsDir, "outputs-dir", cfg.OutputsDir, "Directory created for the command's outputs (env "+entrypoint.EnvOutputsDir+").")
	fs.Var(jsonListFlag{&cfg.Inputs}, "inputs", `The job's input names to download before the command, a JSON array such as ["clip.mov"] (env `+entrypoint.EnvInputs+").")
	fs.Var(jsonListFlag{&cfg.Outputs}, "outputs", `Paths (filepath.Match patterns) uploaded as outputs when the command succeeds, a JSON array such as ["/asyncjob/outputs/*"] (env `+entrypoint.EnvOutputs+").")
	// Errors are the entrypoint's own, not bugs: no stack traces among the job's logs.
	zapOpts := zap.Options{StacktraceLevel: zapcore.PanicLevel}
	zapOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		os.Exit(entrypoint.ExitUsage)
	}
	cfg.Command = fs.Args()
	cfg.Stdin, cfg.Stdout, cfg.Stderr = os.Stdin, os.Stdout, os.Stderr
	cfg.Log = zap.New(zap.UseFlagOptions(&zapOpts))
	if envErr != nil || len(cfg.Command) == 0 {
		if envErr == nil {
			envErr = errors.New("no command to run")
			fs.Usage()
		}
		cfg.Log.Error(envErr, "Invalid configuration")
		_ = os.WriteFile(cfg.TerminationLog, []byte("asyncjob-entrypoint: "+envErr.Error()), 0o644)
		os.Exit(entrypoint.ExitUsage)
	}
	os.Exit(entrypoint.Run(context.Background(), cfg))
	return nil
}
