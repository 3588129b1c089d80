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

package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "gocloud.dev/blob/fileblob" // the file:// store of these tests
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/artifact"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// uploadSchema is the schema of the upload tests' type: input names an
// uploaded file or a URL, so it is a plain string.
const uploadSchema = `{
  "type": "object",
  "properties": {
    "input":  {"type": "string", "minLength": 1},
    "format": {"type": "string", "enum": ["webm", "mp4"]}
  },
  "required": ["input", "format"],
  "additionalProperties": false
}`

// uploadHarness is a harness whose server has a real file:// artifact store in dir.
type uploadHarness struct {
	*harness
	dir     string
	store   *artifact.Store
	fileTyp string // a Ready type with artifacts (input is an inputParameter)
}

func newUploadHarness(t *testing.T, opts ...harnessOption) *uploadHarness {
	t.Helper()
	dir := t.TempDir()
	st, err := artifact.Open(context.Background(), "file://"+dir+"?no_tmp_dir=true")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	opts = append([]harnessOption{func(c *Config) { c.Artifacts = st }}, opts...)
	u := &uploadHarness{harness: newHarness(t, opts...), dir: dir, store: st}
	u.fileTyp = u.typ + "-files"
	u.createArtifactType(u.fileTyp)
	return u
}

// createArtifactType creates a Ready type with artifacts, as the controller
// would leave it.
func (h *harness) createArtifactType(name string) {
	h.t.Helper()
	ctx := context.Background()
	w := wrappers.MakeAsyncJobType(name).Description("Converts an uploaded video.").Schema(uploadSchema).
		PollInterval(7).Image("busybox").Command("convert").Artifacts([]string{"input"}, v1alpha1.OutputsDir+"/*")
	jt := w.Obj()
	h.must(h.env.Client.Create(ctx, jt))
	h.t.Cleanup(func() { _ = h.env.Client.Delete(context.Background(), jt) })
	w.Ready()
	h.must(h.env.Client.Status().Update(ctx, jt))
	h.eventually("type "+name+" is Ready in the cache", func() bool {
		var got v1alpha1.AsyncJobType
		return h.server.store.cache.Get(ctx, typeKey(name), &got) == nil && got.IsReady()
	})
}

// file is one file part of an upload.
type file struct {
	name, contentType string
	content           io.Reader
}

// multipartBody streams the parts through a pipe as the client sends them:
// nothing of the files is held in memory. job is the job part's JSON.
func multipartBody(job string, files ...file) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if err := mw.WriteField(jobPartName, job); err != nil {
				return err
			}
			for _, f := range files {
				hdr := textproto.MIMEHeader{}
				hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.name, f.name))
				if f.contentType != "" {
					hdr.Set("Content-Type", f.contentType)
				}
				w, err := mw.CreatePart(hdr)
				if err != nil {
					return err
				}
				if _, err := io.Copy(w, f.content); err != nil {
					return err
				}
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}

// upload POSTs a multipart body as tenant.
func (h *harness) upload(tenant string, body io.Reader, contentType string, headers ...string) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/v1/jobs", body)
	h.must(err)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+h.keys[tenant])
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.client.Do(req)
	h.must(err)
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	h.must(err)
	return response{Response: resp, body: data}
}

// jobJSON is a job part for the harness's file type.
func (u *uploadHarness) jobJSON(input string) string {
	return fmt.Sprintf(`{"type":%q,"parameters":{"input":%q,"format":"webm"}}`, u.fileTyp, input)
}

// storedFiles lists every regular file under the store's directory, a
// writer's temporary files included: "nothing left behind" is checked on
// disk, not through the store's own listing.
func (u *uploadHarness) storedFiles() []string {
	u.t.Helper()
	var files []string
	err := filepath.WalkDir(u.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(u.dir, path)
			files = append(files, rel)
		}
		return nil
	})
	u.must(err)
	sort.Strings(files)
	return files
}

// expectNothingLeft fails unless the store holds no file and tenant no job.
func (u *uploadHarness) expectNothingLeft(tenant string) {
	u.t.Helper()
	if files := u.storedFiles(); len(files) != 0 {
		u.t.Errorf("files left in the store: %v", files)
	}
	u.expectNoJobs(tenant)
}

func (h *harness) asyncJob(tenant, id string) *v1alpha1.AsyncJob {
	h.t.Helper()
	var aj v1alpha1.AsyncJob
	h.must(h.env.Client.Get(context.Background(), types.NamespacedName{Namespace: tenant, Name: id}, &aj))
	return &aj
}

// TestUploadAccepted: the files become spec.inputs (size, SHA-256, content
// type), their content is in the store under the job's id, the finalizer
// is set; a JSON submission of the same type gets the finalizer too.
func TestUploadAccepted(t *testing.T) {
	u := newUploadHarness(t)
	clip := randomBytes(t, 3<<20+17)
	notes := []byte("cut at 00:01")
	body, ct := multipartBody(u.jobJSON("clip.mov"),
		file{name: "clip.mov", contentType: "video/quicktime", content: bytes.NewReader(clip)},
		file{name: "notes.txt", content: bytes.NewReader(notes)})
	r := u.upload(u.tenantA, body, ct).expect(t, http.StatusAccepted)
	j := r.job(t)
	if r.Header.Get("Location") != "/v1/jobs/"+j.ID || r.Header.Get("Retry-After") != "7" {
		t.Errorf("headers %v", r.Header)
	}
	aj := u.asyncJob(u.tenantA, j.ID)
	want := []v1alpha1.Artifact{
		{Name: "clip.mov", Size: int64(len(clip)), SHA256: sha256Hex(clip), ContentType: "video/quicktime"},
		{Name: "notes.txt", Size: int64(len(notes)), SHA256: sha256Hex(notes), ContentType: "application/octet-stream"},
	}
	if got, _ := json.Marshal(aj.Spec.Inputs); string(got) != mustJSON(t, want) {
		t.Errorf("spec.inputs %s, want %s", got, mustJSON(t, want))
	}
	if !hasFinalizer(aj.Finalizers, v1alpha1.FinalizerArtifacts) {
		t.Errorf("finalizers %v, want %s", aj.Finalizers, v1alpha1.FinalizerArtifacts)
	}
	for name, content := range map[string][]byte{"clip.mov": clip, "notes.txt": notes} {
		obj, err := u.store.Get(context.Background(), u.tenantA, j.ID, artifact.Input, name)
		u.must(err)
		got, err := io.ReadAll(obj)
		_ = obj.Close()
		u.must(err)
		if !bytes.Equal(got, content) {
			t.Errorf("%s: the store holds %d bytes that differ from the %d uploaded", name, len(got), len(content))
		}
	}

	// A JSON submission of a type with artifacts: a URL input, and the finalizer.
	jj := u.request(http.MethodPost, "/v1/jobs", u.tenantA, u.jobJSON("https://example.com/a.mov")).expect(t, http.StatusAccepted).job(t)
	if aj := u.asyncJob(u.tenantA, jj.ID); !hasFinalizer(aj.Finalizers, v1alpha1.FinalizerArtifacts) || len(aj.Spec.Inputs) != 0 {
		t.Errorf("JSON submission: finalizers %v, inputs %v", aj.Finalizers, aj.Spec.Inputs)
	}
	// A type without artifacts gets no finalizer.
	plain := u.submit(u.tenantA, nil)
	if aj := u.asyncJob(u.tenantA, plain.ID); len(aj.Finalizers) != 0 {
		t.Errorf("a type without artifacts got finalizers %v", aj.Finalizers)
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUploadParameterMustNameAFile: an input parameter that is neither a URL
// nor an uploaded file's name is 422 at its pointer, found once the files
// are stored; they are removed. A JSON submission must give a URL.
func TestUploadParameterMustNameAFile(t *testing.T) {
	u := newUploadHarness(t)
	body, ct := multipartBody(u.jobJSON("other.mov"), file{name: "clip.mov", content: bytes.NewReader(randomBytes(t, 1<<20))})
	r := u.upload(u.tenantA, body, ct).expect(t, http.StatusUnprocessableEntity)
	p := r.problem(t)
	if got := pointers(p.Errors); len(got) != 1 || got[0] != "/parameters/input" || !strings.Contains(p.Errors[0].Detail, "clip.mov") {
		t.Errorf("errors %+v", p.Errors)
	}
	u.expectNothingLeft(u.tenantA)

	r = u.request(http.MethodPost, "/v1/jobs", u.tenantA, u.jobJSON("clip.mov")).expect(t, http.StatusUnprocessableEntity)
	if got := pointers(r.problem(t).Errors); len(got) != 1 || got[0] != "/parameters/input" {
		t.Errorf("JSON submission naming a file: errors %v", got)
	}
	// A file for a type that takes none, and a bad or repeated name: refused
	// before anything is stored.
	for name, files := range map[string][]file{
		"type without artifacts": {{name: "a.mov", content: strings.NewReader("x")}},
		"bad name":               {{name: ".hidden", content: strings.NewReader("x")}},
		"repeated name":          {{name: "clip.mov", content: strings.NewReader("x")}, {name: "clip.mov", content: strings.NewReader("y")}},
	} {
		job := u.jobJSON("clip.mov")
		if name == "type without artifacts" {
			job = fmt.Sprintf(`{"type":%q,"parameters":{"input":"https://example.com/a","format":"webm"}}`, u.typ)
		}
		body, ct := multipartBody(job, files...)
		if p := u.upload(u.tenantA, body, ct).expect(t, http.StatusUnprocessableEntity).problem(t); p.Code != problemValidationFailed.Code {
			t.Errorf("%s: %+v", name, p)
		}
		u.expectNothingLeft(u.tenantA)
	}
}

// TestUploadLimits: a file over the per-file limit, or files over the
// per-request limit together, are 413 with the limit in detail, and leave
// no file and no job; a file of exactly the limit is taken.
func TestUploadLimits(t *testing.T) {
	const perFile, perRequest = 1 << 20, 3 << 20
	u := newUploadHarness(t, func(c *Config) {
		c.ArtifactLimits = ArtifactLimits{MaxFileBytes: perFile, MaxRequestBytes: perRequest}
	})
	cases := []struct {
		name   string
		files  []file
		detail string
	}{
		{"one file too large", []file{{name: "clip.mov", content: bytes.NewReader(randomBytes(t, perFile+1))}}, "1048576 bytes, the limit per file"},
		{"too much together", []file{
			{name: "clip.mov", content: bytes.NewReader(randomBytes(t, perFile))},
			{name: "b", content: bytes.NewReader(randomBytes(t, perFile))},
			{name: "c", content: bytes.NewReader(randomBytes(t, perFile))},
		}, "3145728 bytes, the limit per request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := multipartBody(u.jobJSON("clip.mov"), tc.files...)
			p := u.upload(u.tenantA, body, ct).expect(t, http.StatusRequestEntityTooLarge).problem(t)
			if p.Code != problemPayloadTooLarge.Code || !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("problem %+v, want detail with %q", p, tc.detail)
			}
			u.expectNothingLeft(u.tenantA)
		})
	}
	body, ct := multipartBody(u.jobJSON("clip.mov"), file{name: "clip.mov", content: bytes.NewReader(randomBytes(t, perFile))})
	j := u.upload(u.tenantA, body, ct).expect(t, http.StatusAccepted).job(t)
	if in := u.asyncJob(u.tenantA, j.ID).Spec.Inputs; len(in) != 1 || in[0].Size != perFile {
		t.Errorf("inputs %+v", in)
	}
}

// blockingReader blocks its first Read until open is closed: a file part the
// server must not need to answer.
type blockingReader struct {
	open <-chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	<-b.open
	return 0, io.EOF
}

// TestUploadRefusedBeforeFiles: an unknown type, parameters failing the
// schema, or a tenant over its quota are refused from the job part alone:
// the answer comes while the client has not sent a byte of the file (its
// content blocks until the answer is in), and nothing is left.
func TestUploadRefusedBeforeFiles(t *testing.T) {
	u := newUploadHarness(t, func(c *Config) { c.MaxUnfinishedJobs = 1 })
	// Tenant B is at its quota.
	u.request(http.MethodPost, "/v1/jobs", u.tenantB, u.jobJSON("https://example.com/a.mov")).expect(t, http.StatusAccepted)
	// The quota counts from the cache (a soft bound): wait until it has the job.
	u.eventually("the server's cache has tenant B's job", func() bool {
		n, err := u.server.store.unfinishedJobs(context.Background(), u.tenantB, u.tenantB)
		return err == nil && n == 1
	})
	cases := []struct {
		name, tenant, job string
		status            int
		code              string
	}{
		{"unknown type", u.tenantA, `{"type":"no-such-type","parameters":{}}`, http.StatusUnprocessableEntity, problemValidationFailed.Code},
		{"schema", u.tenantA, fmt.Sprintf(`{"type":%q,"parameters":{"input":"clip.mov","format":"avi"}}`, u.fileTyp), http.StatusUnprocessableEntity, problemValidationFailed.Code},
		{"malformed job", u.tenantA, `{"type":`, http.StatusBadRequest, problemMalformedJSON.Code},
		{"quota", u.tenantB, u.jobJSON("clip.mov"), http.StatusTooManyRequests, problemTooManyUnfinished.Code},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			open := make(chan struct{})
			content := &blockingReader{open: open}
			body, ct := multipartBody(tc.job, file{name: "clip.mov", content: content})
			// upload returns with the answer while the file's content is
			// still blocked: had the server waited for it, this would hang
			// until the server's read deadline and fail.
			r := u.upload(tc.tenant, body, ct)
			close(open)
			r.expect(t, tc.status)
			if p := r.problem(t); p.Code != tc.code {
				t.Errorf("problem %+v", p)
			}
			if files := u.storedFiles(); len(files) != 0 {
				t.Errorf("files in the store: %v", files)
			}
		})
	}
	u.expectNoJobs(u.tenantA)
	// The first part must be the job.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("clip.mov", "clip.mov")
	_, _ = fw.Write([]byte("x"))
	_ = mw.Close()
	p := u.upload(u.tenantA, &buf, mw.FormDataContentType()).expect(t, http.StatusBadRequest).problem(t)
	if p.Code != problemMalformedMultipart.Code || !strings.Contains(p.Detail, `"job"`) {
		t.Errorf("file first: %+v", p)
	}
	u.expectNothingLeft(u.tenantA)
}

// TestUploadClientGoneMidway: a client that goes away mid-upload, after one
// file was stored whole and while the next is being written, leaves no file
// (not the whole one, not the partial one) and no job. The client is a raw
// TCP connection that announces more body than it sends, then closes.
func TestUploadClientGoneMidway(t *testing.T) {
	u := newUploadHarness(t)
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	_ = mw.WriteField(jobPartName, u.jobJSON("clip.mov"))
	fw, _ := mw.CreateFormFile("first.bin", "first.bin")
	_, _ = fw.Write(randomBytes(t, 256<<10))
	_, _ = mw.CreateFormFile("clip.mov", "clip.mov") // its content follows, partly

	addr := strings.TrimPrefix(u.srv.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	u.must(err)
	defer func() { _ = conn.Close() }()
	_, err = fmt.Fprintf(conn, "POST /v1/jobs HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		addr, u.keys[u.tenantA], mw.FormDataContentType(), head.Len()+64<<20)
	u.must(err)
	_, err = conn.Write(head.Bytes())
	u.must(err)
	_, err = conn.Write(randomBytes(t, 1<<20))
	u.must(err)
	// Wait until the first file is stored whole and the second being written.
	u.eventually("the first file is stored and the second written", func() bool {
		files := u.storedFiles()
		whole, partial := false, false
		for _, f := range files {
			whole = whole || strings.HasSuffix(f, "/inputs/first.bin")
			partial = partial || strings.Contains(f, "clip.mov")
		}
		return whole && partial
	})
	t.Logf("stored before the client went away: %v", u.storedFiles())
	u.must(conn.Close())
	u.eventually("nothing is left in the store", func() bool { return len(u.storedFiles()) == 0 })
	// Nothing comes back later either (no create after the failure).
	time.Sleep(300 * time.Millisecond)
	u.expectNothingLeft(u.tenantA)
}

// TestUploadIdempotencyKey: the same key with the same job part and files
// replays the original job without touching its files; other files are 422.
func TestUploadIdempotencyKey(t *testing.T) {
	u := newUploadHarness(t)
	clip := randomBytes(t, 512<<10)
	send := func(content []byte) response {
		body, ct := multipartBody(u.jobJSON("clip.mov"), file{name: "clip.mov", content: bytes.NewReader(content)})
		return u.upload(u.tenantA, body, ct, "Idempotency-Key", "upload-1")
	}
	first := send(clip).expect(t, http.StatusAccepted)
	id := first.job(t).ID
	if first.Header.Get("Idempotent-Replayed") != "" {
		t.Error("the first upload is marked replayed")
	}
	again := send(clip).expect(t, http.StatusAccepted)
	if again.Header.Get("Idempotent-Replayed") != "true" || again.job(t).ID != id {
		t.Errorf("replay: %q, id %s vs %s", again.Header.Get("Idempotent-Replayed"), again.job(t).ID, id)
	}
	other := randomBytes(t, 512<<10)
	if p := send(other).expect(t, http.StatusUnprocessableEntity).problem(t); p.Code != problemIdempotencyMismatch.Code {
		t.Errorf("other file: %+v", p)
	}
	// The original's file is intact, and is the only one.
	obj, err := u.store.Get(context.Background(), u.tenantA, id, artifact.Input, "clip.mov")
	u.must(err)
	got, _ := io.ReadAll(obj)
	_ = obj.Close()
	if !bytes.Equal(got, clip) {
		t.Error("a replay or a refused reuse changed the original's file")
	}
	// fileblob keeps a file's attributes in a NAME.attrs sidecar.
	prefix := u.tenantA + "/" + id + "/inputs/clip.mov"
	if files := u.storedFiles(); strings.Join(files, ",") != prefix+","+prefix+".attrs" {
		t.Errorf("files %v, want the original's one", files)
	}
	var list v1alpha1.AsyncJobList
	u.must(u.env.Client.List(context.Background(), &list, clientInNamespace(u.tenantA)))
	if len(list.Items) != 1 {
		t.Errorf("%d AsyncJobs, want 1", len(list.Items))
	}
}

// TestUploadWithoutStore: no artifact store: a multipart submission and a
// JSON one of a type with artifacts are 501; other JSON submissions work.
func TestUploadWithoutStore(t *testing.T) {
	h := newHarness(t)
	typ := h.typ + "-files"
	h.createArtifactType(typ)
	body, ct := multipartBody(fmt.Sprintf(`{"type":%q,"parameters":{"input":"a","format":"webm"}}`, typ), file{name: "a", content: strings.NewReader("x")})
	if p := h.upload(h.tenantA, body, ct).expect(t, http.StatusNotImplemented).problem(t); p.Code != problemArtifactsNotConfigured.Code {
		t.Errorf("multipart: %+v", p)
	}
	r := h.request(http.MethodPost, "/v1/jobs", h.tenantA, fmt.Sprintf(`{"type":%q,"parameters":{"input":"https://example.com/a","format":"webm"}}`, typ))
	if p := r.expect(t, http.StatusNotImplemented).problem(t); p.Code != problemArtifactsNotConfigured.Code {
		t.Errorf("JSON of a type with artifacts: %+v", p)
	}
	h.expectNoJobs(h.tenantA)
	h.submit(h.tenantA, nil)
}

// TestUploadStoreDown: a store that refuses the write is 503 with
// Retry-After, and no job is created. The store's directory is made
// unusable for the tenant by a plain file where its namespace directory goes.
func TestUploadStoreDown(t *testing.T) {
	u := newUploadHarness(t)
	u.must(os.WriteFile(filepath.Join(u.dir, u.tenantA), []byte("not a directory"), 0o600))
	body, ct := multipartBody(u.jobJSON("clip.mov"), file{name: "clip.mov", content: bytes.NewReader(randomBytes(t, 64<<10))})
	r := u.upload(u.tenantA, body, ct).expect(t, http.StatusServiceUnavailable)
	if p := r.problem(t); p.Code != problemArtifactsUnavailable.Code || r.Header.Get("Retry-After") == "" {
		t.Errorf("problem %+v, Retry-After %q", p, r.Header.Get("Retry-After"))
	}
	u.expectNoJobs(u.tenantA)
}

// patternReader generates n bytes of a cheap pseudo-random pattern, holding
// none of them: the test's body costs no memory of its own.
type patternReader struct {
	n, off int64
	x      uint64
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if rest := p.n - p.off; int64(len(b)) > rest {
		b = b[:rest]
	}
	for i := range b {
		p.x ^= p.x << 13
		p.x ^= p.x >> 7
		p.x ^= p.x << 17
		b[i] = byte(p.x)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// TestUploadMemoryStaysFlat: a 200 MiB upload through a real HTTP client and
// the real server does not grow the heap with its size.
//
// How it is measured: client and server run in this process. After a GC, the
// baseline is runtime.MemStats.HeapInuse; a goroutine reads HeapInuse every
// 5 ms while the upload runs and keeps the highest value. The body is
// generated as it is sent (patternReader through multipartBody's io.Pipe),
// so the test holds no copy of it. The peak growth must stay under 32 MiB:
// an implementation that buffered the file (ParseMultipartForm's 32 MiB
// in-memory part, or io.ReadAll) would exceed it, as would anything
// proportional to the 200 MiB.
func TestUploadMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 200 MiB")
	}
	const size = 200 << 20
	const maxGrowth = 32 << 20
	u := newUploadHarness(t)
	gen := &patternReader{n: size, x: 88172645463325252}
	hash := sha256.New()
	body, ct := multipartBody(u.jobJSON("big.bin"), file{name: "big.bin", content: io.TeeReader(gen, hash)})

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	peak.Store(base)
	done := make(chan struct{})
	sampled := make(chan int)
	go func() {
		n := 0
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				sampled <- n
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				n++
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	start := time.Now()
	r := u.upload(u.tenantA, body, ct)
	elapsed := time.Since(start)
	close(done)
	samples := <-sampled
	j := r.expect(t, http.StatusAccepted).job(t)

	growth := int64(peak.Load()) - int64(base)
	t.Logf("200 MiB upload in %v (%.0f MiB/s): HeapInuse baseline %.1f MiB, peak %.1f MiB, growth %.1f MiB over %d samples",
		elapsed.Round(time.Millisecond), float64(size)/(1<<20)/elapsed.Seconds(),
		float64(base)/(1<<20), float64(peak.Load())/(1<<20), float64(growth)/(1<<20), samples)
	if growth > maxGrowth {
		t.Errorf("the heap grew by %.1f MiB during the upload, more than %d MiB: the upload is buffered", float64(growth)/(1<<20), maxGrowth>>20)
	}
	if samples < 10 {
		t.Errorf("only %d samples: the measurement says nothing", samples)
	}
	in := u.asyncJob(u.tenantA, j.ID).Spec.Inputs
	if len(in) != 1 || in[0].Size != size || in[0].SHA256 != hex.EncodeToString(hash.Sum(nil)) {
		t.Errorf("inputs %+v, want %d bytes with the sent SHA-256", in, size)
	}
}

// TestUploadCreateFails: the files are stored but the AsyncJob cannot be
// created (its namespace is terminating: envtest has no namespace
// controller, so it stays so); the files are removed.
func TestUploadCreateFails(t *testing.T) {
	u := newUploadHarness(t)
	ctx := context.Background()
	u.must(u.env.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: u.tenantB}}))
	body, ct := multipartBody(u.jobJSON("clip.mov"), file{name: "clip.mov", content: bytes.NewReader(randomBytes(t, 1<<20))})
	r := u.upload(u.tenantB, body, ct)
	if r.StatusCode < 400 {
		t.Fatalf("status %d: the job was created in a terminating namespace", r.StatusCode)
	}
	t.Logf("answer: %d %s", r.StatusCode, r.body)
	u.expectNothingLeft(u.tenantB)
}
