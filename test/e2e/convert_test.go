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

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // the filesystem store, opened by URL
	_ "gocloud.dev/blob/s3blob"   // the S3 store, opened by URL
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/asyncjob/asyncjob/internal/httpapi"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/localcluster"
	"github.com/asyncjob/asyncjob/test/stack"
)

// typeConvert is config/samples' real convert type, its pods running
// Debian's ffmpeg (localcluster.FFmpegImage) on the real node.
const typeConvert = "convert"

// artifactItem is an item of GET /v1/jobs/{id}/artifacts.
type artifactItem struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"contentType"`
	Href        string `json:"href"`
}

// A client uploads a video ffmpeg made on this machine, converts it to webm
// on the real node through the API and sees the progress rise to 100, then
// downloads a webm whose codecs and duration ffprobe checks; a corrupt input
// fails with ffmpeg's own reason; cancelling a long conversion stops its pod
// and leaves no output; deleting a job removes its files from the store.
// Once with the filesystem store, once with S3 (versitygw).
func TestRealNodeConvert(t *testing.T) {
	localcluster.SkipWithoutRealNode(t, "the convert type")
	requireHostFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if err := s.Cluster.LoadFFmpegImage(ctx); err != nil {
		t.Fatalf("the ffmpeg image: %v", err)
	}
	// The rest of the suite runs without a store, as it started.
	t.Cleanup(func() {
		if err := s.UseArtifactStore(context.Background(), ""); err != nil {
			t.Errorf("turning the artifact store off again: %v", err)
		}
	})
	media := t.TempDir()
	clip := makeClip(t, filepath.Join(media, "clip.mov"), 4, "320x240")
	long := makeClip(t, filepath.Join(media, "long.mkv"), 600, "160x120")
	corrupt := filepath.Join(media, "bad.mov")
	if err := os.WriteFile(corrupt, []byte("this is not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("file", func(t *testing.T) {
		url := framework.FileStore(t)
		if err := s.UseArtifactStore(ctx, url); err != nil {
			t.Fatal(err)
		}
		convertType(ctx, t)
		convertScenarios(ctx, t, url, clip, long, corrupt)
	})
	t.Run("s3", func(t *testing.T) {
		srv := framework.StartS3(t)
		srv.SetEnv(t) // for the API and the controller, which inherit it, and for this test's own look
		if err := s.UseArtifactStore(ctx, srv.URL()); err != nil {
			t.Fatal(err)
		}
		convertType(ctx, t)
		convertScenarios(ctx, t, srv.URL(), clip, long, corrupt)
	})
}

// convertType creates typeConvert once, with a store configured (a type
// with artifacts is no use without one), and waits until it is submittable:
// again after each restart of the API.
func convertType(ctx context.Context, t *testing.T) {
	t.Helper()
	if !convertTypeCreated {
		jt, err := stack.ConvertType(localcluster.FFmpegImage)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Client.Create(ctx, jt); err != nil {
			t.Fatalf("creating the convert type: %v", err)
		}
		convertTypeCreated = true
	}
	if err := waitSubmittable(ctx, typeConvert); err != nil {
		t.Fatal(err)
	}
}

var convertTypeCreated bool

func convertScenarios(ctx context.Context, t *testing.T, storeURL, clip, long, corrupt string) {
	t.Run("ConvertToWebm", func(t *testing.T) { convertToWebm(ctx, t, storeURL, clip) })
	t.Run("CorruptInputFailsWithFFmpegsReason", func(t *testing.T) { corruptInput(ctx, t, storeURL, corrupt) })
	t.Run("CancelStopsThePodAndRemovesOutputs", func(t *testing.T) { cancelConversion(ctx, t, storeURL, long) })
}

// convertToWebm: upload, progress to 100, the listed and downloaded webm,
// the store's keys, and none left after DELETE.
func convertToWebm(ctx context.Context, t *testing.T, storeURL, clip string) {
	id := uploadJob(ctx, t, map[string]any{"input": "clip.mov", "format": "webm"}, clip)
	percents, done := watchConversion(t, id)
	t.Logf("progress seen: %v", percents)
	if !slices.IsSorted(percents) || len(percents) < 2 || percents[len(percents)-1] != 100 || !slices.ContainsFunc(percents, func(p int32) bool { return p > 0 && p < 100 }) {
		t.Errorf("progress seen %v: want increasing values, one between 0 and 100, ending at 100", percents)
	}
	if done.Progress == nil || done.Progress.Step != "ffmpeg" {
		t.Errorf("final progress %+v: want step ffmpeg (from its -progress stream)", done.Progress)
	}

	items := listArtifacts(ctx, t, id)
	in, out := findItem(items, "clip.mov"), findItem(items, "clip.webm")
	if in == nil || in.Kind != "input" || in.Size != fileSize(t, clip) || in.SHA256 != fileSHA256(t, clip) {
		t.Errorf("input clip.mov: %+v, want kind input with the uploaded file's size and SHA-256 (items %+v)", in, items)
	}
	if out == nil || out.Kind != "output" || out.ContentType != "video/webm" {
		t.Fatalf("output clip.webm: %+v, want kind output, video/webm (items %+v)", out, items)
	}
	path := filepath.Join(t.TempDir(), "clip.webm")
	download(ctx, t, out.Href, path)
	if got := fileSHA256(t, path); got != out.SHA256 {
		t.Errorf("downloaded SHA-256 %s, listed %s", got, out.SHA256)
	}
	p := probe(t, path)
	if p.video != "vp9" || p.audio != "opus" || math.Abs(p.duration-4) > 0.5 {
		t.Errorf("ffprobe of the output: video %q, audio %q, %.2f s; want vp9, opus, 4 s", p.video, p.audio, p.duration)
	}
	if keys := storeKeys(ctx, t, storeURL, id); !slices.Equal(keys, []string{"inputs/clip.mov", "outputs/clip.webm"}) {
		t.Errorf("the store holds %v for %s, want its input and its output", keys, id)
	}

	// Deleting the job removes its files (the controller's finalizer).
	deleteJob(ctx, t, id)
	waitStoreEmpty(ctx, t, storeURL, id)
}

// corruptInput: the job fails with ffmpeg's own reason in its problem.
func corruptInput(ctx context.Context, t *testing.T, storeURL, corrupt string) {
	id := uploadJob(ctx, t, map[string]any{"input": "bad.mov", "format": "webm"}, corrupt)
	j := api.waitFor(t, id, 5*time.Minute, "FAILED", func(j httpapi.Job, found bool) bool {
		return found && (j.Status == httpapi.StatusFailed || j.Status == httpapi.StatusCompleted)
	})
	if j.Status != httpapi.StatusFailed || j.Problem == nil || !strings.Contains(j.Problem.Detail, "Invalid data found when processing input") {
		t.Errorf("a corrupt input: status %s, problem %+v; want FAILED with ffmpeg's reason", j.Status, j.Problem)
	}
	deleteJob(ctx, t, id)
	waitStoreEmpty(ctx, t, storeURL, id)
}

// cancelConversion: cancelled midway, the pod stops and no output is left
// (the input stays until DELETE).
func cancelConversion(ctx context.Context, t *testing.T, storeURL, long string) {
	id := uploadJob(ctx, t, map[string]any{"input": "long.mkv", "format": "webm"}, long)
	// Converting: ffmpeg reported some progress, so it is writing its output.
	api.waitFor(t, id, 5*time.Minute, "progress above 0", func(j httpapi.Job, found bool) bool {
		return found && j.Status == httpapi.StatusRunning && j.Progress != nil && j.Progress.Percent > 0
	})
	resp, raw, err := api.Do(ctx, http.MethodPost, "/v1/jobs/"+id+"/cancel", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("cancel: %v %v %s, want 202", err, resp, raw)
	}
	// Within the pod's grace period (30 s): ffmpeg stops on SIGTERM.
	api.waitStatus(t, id, httpapi.StatusCancelled, 2*time.Minute)
	if _, jobs, pods, err := objectsOf(ctx, id); err != nil || jobs != 0 || pods != 0 {
		t.Errorf("after CANCELLED: jobs %d pods %d (err %v), want none", jobs, pods, err)
	}
	for _, it := range listArtifacts(ctx, t, id) {
		if it.Kind == "output" {
			t.Errorf("a cancelled job lists output %+v", it)
		}
	}
	if keys := storeKeys(ctx, t, storeURL, id); !slices.Equal(keys, []string{"inputs/long.mkv"}) {
		t.Errorf("the store holds %v for the cancelled %s, want its input only", keys, id)
	}
	deleteJob(ctx, t, id)
	waitStoreEmpty(ctx, t, storeURL, id)
}

// requireHostFFmpeg skips (or, with ASYNCJOB_REQUIRE_REAL_NODE=1, fails)
// without ffmpeg and ffprobe on this machine (hack/real-node-deps.sh).
func requireHostFFmpeg(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			if localcluster.RealNodeRequired() {
				t.Fatalf("the convert tests need %s on this machine: run hack/real-node-deps.sh as root", tool)
			}
			t.Skipf("skipped: the convert tests need %s on this machine (hack/real-node-deps.sh)", tool)
		}
	}
}

// makeClip has ffmpeg write a test video (a test pattern and a tone) of
// seconds at size, H.264 and AAC, the fastest way.
func makeClip(t *testing.T, path string, seconds int, size string) string {
	t.Helper()
	d := strconv.Itoa(seconds)
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", "testsrc=duration="+d+":size="+size+":rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:duration="+d,
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg making %s: %v\n%s", path, err, out)
	}
	return path
}

// uploadJob submits a job of typeConvert as multipart/form-data: the job's
// JSON first, then the file under its base name, streamed. It returns the
// job's id; anything but 202 fails the test.
func uploadJob(ctx context.Context, t *testing.T, params map[string]any, file string) string {
	t.Helper()
	body, w := io.Pipe()
	mw := multipart.NewWriter(w)
	go func() {
		w.CloseWithError(writeParts(mw, map[string]any{"type": typeConvert, "parameters": params}, file))
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api.Base+"/v1/jobs", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+api.Key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /v1/jobs (multipart): %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/jobs (multipart): %d %s", resp.StatusCode, raw)
	}
	var j httpapi.Job
	if err := json.Unmarshal(raw, &j); err != nil || j.ID == "" {
		t.Fatalf("POST /v1/jobs (multipart): %v in %s", err, raw)
	}
	return j.ID
}

func writeParts(mw *multipart.Writer, job any, file string) error {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="job"`)
	h.Set("Content-Type", "application/json")
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(part).Encode(job); err != nil {
		return err
	}
	name := filepath.Base(file)
	part, err = mw.CreateFormFile(name, name)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	if _, err := io.Copy(part, f); err != nil {
		return err
	}
	return mw.Close()
}

// watchConversion polls the job until COMPLETED and returns the distinct
// percents seen, in order; FAILED or CANCELLED fails the test.
func watchConversion(t *testing.T, id string) ([]int32, httpapi.Job) {
	t.Helper()
	var percents []int32
	j := api.waitFor(t, id, 10*time.Minute, "COMPLETED", func(j httpapi.Job, found bool) bool {
		if !found || j.Status == httpapi.StatusFailed || j.Status == httpapi.StatusCancelled {
			return true
		}
		if p := j.Progress; p != nil && (len(percents) == 0 || percents[len(percents)-1] != p.Percent) {
			percents = append(percents, p.Percent)
		}
		return j.Status == httpapi.StatusCompleted
	})
	if j.Status != httpapi.StatusCompleted {
		t.Fatalf("job %s ended %s: %+v\n%s", id, j.Status, j.Problem, describe(id))
	}
	return percents, j
}

func listArtifacts(ctx context.Context, t *testing.T, id string) []artifactItem {
	t.Helper()
	resp, raw, err := api.Do(ctx, http.MethodGet, "/v1/jobs/"+id+"/artifacts", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET artifacts of %s: %v %v %s", id, err, resp, raw)
	}
	var list struct {
		Items []artifactItem `json:"items"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatalf("GET artifacts: %v in %s", err, raw)
	}
	return list.Items
}

func findItem(items []artifactItem, name string) *artifactItem {
	for i := range items {
		if items[i].Name == name {
			return &items[i]
		}
	}
	return nil
}

// download GETs href (following a redirect to a presigned URL, without
// the API key) into path.
func download(ctx context.Context, t *testing.T, href, path string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.Base+href, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+api.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", href, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", href, resp.StatusCode, raw)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatalf("GET %s: %v", href, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

type probed struct {
	video, audio string
	duration     float64
}

// probe reads a media file's codecs and duration with ffprobe.
func probe(t *testing.T, path string) probed {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name:format=duration", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var doc struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("ffprobe %s: %v in %s", path, err, out)
	}
	var p probed
	for _, st := range doc.Streams {
		switch st.CodecType {
		case "video":
			p.video = st.CodecName
		case "audio":
			p.audio = st.CodecName
		}
	}
	p.duration, _ = strconv.ParseFloat(doc.Format.Duration, 64)
	return p
}

// storeKeys lists the job's keys in the store, past the API: opened by its
// URL as the commands open it (S3 credentials from the environment), each
// key relative to the job's prefix, sorted; the filesystem backend's
// attribute sidecars left out.
func storeKeys(ctx context.Context, t *testing.T, storeURL, id string) []string {
	t.Helper()
	b, err := blob.OpenBucket(ctx, storeURL)
	if err != nil {
		t.Fatalf("opening the store: %v", err)
	}
	defer func() { _ = b.Close() }()
	prefix := stack.Namespace(tenant) + "/" + id + "/"
	var keys []string
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("listing the store: %v", err)
		}
		// Directory markers (an S3 server's) hold no file either.
		if !obj.IsDir && !strings.HasSuffix(obj.Key, "/") && !strings.HasSuffix(obj.Key, ".attrs") {
			keys = append(keys, strings.TrimPrefix(obj.Key, prefix))
		}
	}
	slices.Sort(keys)
	return keys
}

// waitStoreEmpty waits until the store holds nothing of the job.
func waitStoreEmpty(ctx context.Context, t *testing.T, storeURL, id string) {
	t.Helper()
	var keys []string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		keys = storeKeys(ctx, t, storeURL, id)
		return len(keys) == 0, nil
	})
	if err != nil {
		t.Errorf("the store still holds %v of the deleted job %s", keys, id)
	}
}

// deleteJob DELETEs the job and waits until the API no longer has it: its
// finalizer removed its files first.
func deleteJob(ctx context.Context, t *testing.T, id string) {
	t.Helper()
	resp, raw, err := api.Do(ctx, http.MethodDelete, "/v1/jobs/"+id, nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("DELETE %s: %v %v %s, want 202", id, err, resp, raw)
	}
	api.waitFor(t, id, 2*time.Minute, "404 after DELETE", func(_ httpapi.Job, found bool) bool { return !found })
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
