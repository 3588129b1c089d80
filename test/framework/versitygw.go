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

package framework

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// VersitygwEnv names the versitygw binary for StartS3; `make test-integration`
// sets it. Unset, StartS3 runs hack/versitygw.sh, which builds it once.
const VersitygwEnv = "ASYNCJOB_VERSITYGW"

// S3Region is the region every StartS3 server and URL uses.
const S3Region = "us-east-1"

// S3 is a running versitygw: a real S3-compatible server (it checks
// signatures) serving a directory on loopback, with one bucket. The artifact
// store's S3 tests run against it instead of a mock.
type S3 struct {
	dir, bucket, endpoint string
	access, secret        string
	cmd                   *exec.Cmd
	exited                chan struct{}
	logs                  *syncBuffer
	stopOnce              sync.Once
}

var (
	versitygwOnce sync.Once
	versitygwPath string
	versitygwErr  error
)

// VersitygwBinary answers the versitygw binary's path: $ASYNCJOB_VERSITYGW,
// else what hack/versitygw.sh prints (building it on a cold cache takes about
// 3 minutes). A missing binary fails the test with how to build it: the S3
// tests never skip.
func VersitygwBinary(t testing.TB) string {
	t.Helper()
	versitygwOnce.Do(func() {
		if p := os.Getenv(VersitygwEnv); p != "" {
			versitygwPath = p
			if _, err := exec.LookPath(p); err != nil {
				versitygwErr = fmt.Errorf("%s=%s: %w", VersitygwEnv, p, err)
			}
			return
		}
		script := filepath.Join(RepoRoot(), "hack", "versitygw.sh")
		var stderr bytes.Buffer
		cmd := exec.Command(script)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			versitygwErr = fmt.Errorf("%s: %w\n%s", script, err, stderr.String())
			return
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		versitygwPath = lines[len(lines)-1]
	})
	if versitygwErr != nil {
		t.Fatalf("no versitygw binary (the S3 server the artifact tests run against): %v\n"+
			"build it with `make versitygw` (or hack/versitygw.sh) and set %s to the path it prints", versitygwErr, VersitygwEnv)
	}
	return versitygwPath
}

// StartS3 starts versitygw with its posix backend on a fresh t.TempDir,
// listening on a loopback port with generated keys, creates one bucket
// through the S3 API, and stops it when the test ends.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	return StartS3On(t, "127.0.0.1")
}

// StartS3On is StartS3 listening on host, e.g. the local cluster's HostIP
// for pods of its real node to reach (loopback only, otherwise).
func StartS3On(t testing.TB, host string) *S3 {
	t.Helper()
	bin := VersitygwBinary(t)
	s := &S3{
		dir:    t.TempDir(),
		bucket: "asyncjob-test",
		access: "asyncjobtestaccess",
		secret: "asyncjob-test-secret-" + strings.ReplaceAll(t.Name(), "/", "-"),
	}
	// A port picked free may be taken before versitygw binds it: try again.
	var err error
	for range 3 {
		if err = s.start(bin, host); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("starting versitygw: %v", err)
	}
	t.Cleanup(s.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		t.Fatalf("creating bucket %s on versitygw: %v\n%s", s.bucket, err, s.logs.String())
	}
	return s
}

func (s *S3) start(bin, host string) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	_ = l.Close()
	return s.run(bin, addr)
}

// Restart starts a stopped server again, on the same address and directory:
// a store that comes back after an outage, for code that holds its URL.
func (s *S3) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.run(VersitygwBinary(t), strings.TrimPrefix(s.endpoint, "http://")); err != nil {
		t.Fatalf("restarting versitygw: %v", err)
	}
	s.stopOnce = sync.Once{}
}

func (s *S3) run(bin, addr string) error {
	s.endpoint = "http://" + addr
	s.logs = &syncBuffer{}
	s.cmd = exec.Command(bin, "--access", s.access, "--secret", s.secret, "--region", S3Region,
		"--port", addr, "posix", s.dir)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	// Ready when it answers HTTP at all (an unsigned request gets 403).
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("versitygw exited: %s\n%s", s.cmd.ProcessState, s.logs.String())
		default:
		}
		resp, err := http.Get(s.endpoint + "/")
		if err == nil {
			_ = resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	return fmt.Errorf("versitygw did not answer on %s within 20s\n%s", addr, s.logs.String())
}

// Stop stops the server (idempotent); the directory stays until the test
// ends. A store using it then gets connection errors, as from a store that
// is down.
func (s *S3) Stop() {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
	})
}

// URL is the gocloud.dev/blob URL of the bucket (credentials come from Env).
func (s *S3) URL() string {
	q := url.Values{"endpoint": {s.endpoint}, "use_path_style": {"true"}, "region": {S3Region}}
	return "s3://" + s.bucket + "?" + q.Encode()
}

// Endpoint is the server's base URL, http://HOST:PORT.
func (s *S3) Endpoint() string { return s.endpoint }

// Env is the credentials' environment, as the chart sets it from a Secret.
func (s *S3) Env() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":     s.access,
		"AWS_SECRET_ACCESS_KEY": s.secret,
		"AWS_REGION":            S3Region,
	}
}

// SetEnv sets Env for the rest of the test (so not in a parallel test), for
// code that opens URL as the commands do.
func (s *S3) SetEnv(t testing.TB) {
	t.Helper()
	for k, v := range s.Env() {
		t.Setenv(k, v)
	}
}

// Dir is the directory the posix backend serves: Dir()/Bucket() holds the
// bucket's objects, for checks that look past the S3 API.
func (s *S3) Dir() string { return s.dir }

// Bucket is the bucket's name.
func (s *S3) Bucket() string { return s.bucket }

// Logs is what versitygw printed so far, for a failing test's message.
func (s *S3) Logs() string { return s.logs.String() }

// Client is a plain S3 client of the server (path-style, its credentials),
// for what the store under test does not do: creating buckets, listing
// multipart uploads left open.
func (s *S3) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       S3Region,
		BaseEndpoint: aws.String(s.endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.access, s.secret, ""),
	})
}

// FileStore answers a gocloud.dev/blob URL of a fresh directory, as the chart
// configures the filesystem store: no_tmp_dir keeps partial writes in the
// directory itself (os.TempDir may be another filesystem, where the final
// rename fails).
func FileStore(t testing.TB) string {
	t.Helper()
	return "file://" + filepath.ToSlash(t.TempDir()) + "?no_tmp_dir=true"
}

// syncBuffer is a bytes.Buffer the server's output goroutines and a test
// may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
