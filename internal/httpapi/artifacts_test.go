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
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/google/uuid"
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/s3blob" // the store that is down
	"k8s.io/apimachinery/pkg/types"

	"github.com/asyncjob/asyncjob/api/v1alpha1"
	"github.com/asyncjob/asyncjob/internal/artifact"
	"github.com/asyncjob/asyncjob/test/framework"
	"github.com/asyncjob/asyncjob/test/wrappers"
)

// withFileStore gives the server a directory store, as the chart's default
// (a PersistentVolumeClaim) is, opened by URL as cmd/api.go opens it.
func withFileStore(t *testing.T) harnessOption {
	t.Helper()
	st, err := artifact.Open(context.Background(), framework.FileStore(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return func(cfg *Config) { cfg.Artifacts = st }
}

// randomBytes is n bytes no compression or sniffing makes sense of.
func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// jobWithInputs creates, as the upload route will, an AsyncJob of tenant
// whose inputs are stored and recorded in spec.inputs, and waits until the
// server's cache has it (the worker routes read only the cache).
func (h *harness) jobWithInputs(tenant string, files map[string][]byte) string {
	h.t.Helper()
	ctx := context.Background()
	id := uuid.NewString()
	var inputs []v1alpha1.Artifact
	for name, content := range files {
		a, err := h.server.cfg.Artifacts.Put(ctx, tenant, id, artifact.Input, name, bytes.NewReader(content), artifact.PutOptions{ContentType: "video/quicktime"})
		h.must(err)
		inputs = append(inputs, a)
	}
	aj := wrappers.MakeAsyncJob(id, tenant).Type(h.typ).Tenant(tenant).Params(`{"input":"clip.mov","format":"webm"}`).Inputs(inputs...).Obj()
	h.must(h.env.Client.Create(ctx, aj))
	h.eventually("job "+id+" reaches the cache", func() bool {
		return h.server.store.cache.Get(ctx, types.NamespacedName{Namespace: tenant, Name: id}, &v1alpha1.AsyncJob{}) == nil
	})
	return id
}

// putOutput PUTs body as output name of job id with a worker token.
func (h *harness) putOutput(id, name, token, contentType string, body io.Reader) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPut, h.srv.URL+"/v1/jobs/"+id+"/outputs/"+name, body)
	h.must(err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.client.Do(req)
	h.must(err)
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	h.must(err)
	return response{Response: resp, body: data}
}

// storedKeys lists what the store holds for a job.
func (h *harness) storedKeys(ns, id string) []string {
	h.t.Helper()
	keys, err := h.server.cfg.Artifacts.List(context.Background(), ns, id)
	h.must(err)
	return keys
}

// TestArtifactDownloads: the list, the job's view of its files, and a
// download with its ETag, Range (206, 416) and If-None-Match (304).
func TestArtifactDownloads(t *testing.T) {
	h := newHarness(t, withFileStore(t))
	clip := randomBytes(t, 64<<10)
	id := h.jobWithInputs(h.tenantA, map[string][]byte{"clip.mov": clip})
	etag := `"` + sha256Hex(clip) + `"`
	href := "/v1/jobs/" + id + "/artifacts/clip.mov"

	var list artifactList
	h.request(http.MethodGet, "/v1/jobs/"+id+"/artifacts", h.tenantA, nil).expect(t, http.StatusOK).json(t, &list)
	want := JobArtifact{Name: "clip.mov", Kind: artifact.Input, Size: int64(len(clip)), SHA256: sha256Hex(clip), ContentType: "video/quicktime", Href: href}
	if len(list.Items) != 1 || list.Items[0] != want {
		t.Fatalf("list %+v, want [%+v]", list.Items, want)
	}
	job := h.request(http.MethodGet, "/v1/jobs/"+id, h.tenantA, nil).expect(t, http.StatusOK).job(t)
	if len(job.Inputs) != 1 || job.Inputs[0] != want || len(job.Outputs) != 0 || job.Links.Artifacts != "/v1/jobs/"+id+"/artifacts" {
		t.Errorf("the job's files: inputs %+v, outputs %+v, links %+v", job.Inputs, job.Outputs, job.Links)
	}

	full := h.request(http.MethodGet, href, h.tenantA, nil).expect(t, http.StatusOK)
	if !bytes.Equal(full.body, clip) {
		t.Fatalf("download: %d bytes, not the %d uploaded", len(full.body), len(clip))
	}
	for k, v := range map[string]string{"ETag": etag, "Content-Length": strconv.Itoa(len(clip)), "Accept-Ranges": "bytes",
		"Content-Type": "video/quicktime", "Content-Disposition": `attachment; filename=clip.mov`} {
		if got := full.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	head := h.request(http.MethodHead, href, h.tenantA, nil).expect(t, http.StatusOK)
	if len(head.body) != 0 || head.Header.Get("Content-Length") != strconv.Itoa(len(clip)) || head.Header.Get("ETag") != etag {
		t.Errorf("HEAD: %d bytes, headers %v", len(head.body), head.Header)
	}

	for _, c := range []struct {
		rng, contentRange string
		want              []byte
	}{
		{"bytes=100-199", "bytes 100-199/65536", clip[100:200]},
		{"bytes=-10", "bytes 65526-65535/65536", clip[len(clip)-10:]},
		{"bytes=65000-", "bytes 65000-65535/65536", clip[65000:]},
	} {
		r := h.request(http.MethodGet, href, h.tenantA, nil, "Range", c.rng).expect(t, http.StatusPartialContent)
		if !bytes.Equal(r.body, c.want) || r.Header.Get("Content-Range") != c.contentRange || r.Header.Get("ETag") != etag {
			t.Errorf("Range %s: %d bytes, Content-Range %q, ETag %q", c.rng, len(r.body), r.Header.Get("Content-Range"), r.Header.Get("ETag"))
		}
	}
	// If-Range with a stale ETag: the whole file.
	h.request(http.MethodGet, href, h.tenantA, nil, "Range", "bytes=0-9", "If-Range", `"stale"`).expect(t, http.StatusOK)

	bad := h.request(http.MethodGet, href, h.tenantA, nil, "Range", "bytes=70000-80000").expect(t, http.StatusRequestedRangeNotSatisfiable)
	if p := bad.problem(t); p.Code != problemRangeNotSatisfiable.Code || bad.Header.Get("Content-Range") != "bytes */65536" {
		t.Errorf("416: %s, Content-Range %q", bad.body, bad.Header.Get("Content-Range"))
	}

	nm := h.request(http.MethodGet, href, h.tenantA, nil, "If-None-Match", etag).expect(t, http.StatusNotModified)
	if len(nm.body) != 0 || nm.Header.Get("ETag") != etag {
		t.Errorf("304: %d bytes, ETag %q", len(nm.body), nm.Header.Get("ETag"))
	}
	h.request(http.MethodGet, href, h.tenantA, nil, "If-None-Match", `"`+strings.Repeat("0", 64)+`"`).expect(t, http.StatusOK)

	for _, name := range []string{"nope.mov", ".hidden", "clip.mov.attrs"} {
		r := h.request(http.MethodGet, "/v1/jobs/"+id+"/artifacts/"+name, h.tenantA, nil).expect(t, http.StatusNotFound)
		if p := r.problem(t); p.Code != problemArtifactNotFound.Code {
			t.Errorf("%s: %s", name, r.body)
		}
	}
}

// TestArtifactTenancy: every artifact route keeps to its tenant and its kind
// of credential: another tenant's job is exactly a job that does not exist,
// a worker token opens no client route, a client key no worker route, and
// job A's worker token neither reads nor writes job B's files.
func TestArtifactTenancy(t *testing.T) {
	h := newHarness(t, withFileStore(t), withWorkerKey)
	clip := []byte("the clip")
	a := h.jobWithInputs(h.tenantA, map[string][]byte{"clip.mov": clip})
	b := h.jobWithInputs(h.tenantA, map[string][]byte{"clip.mov": clip})
	tokA := h.workerToken(h.tenantA, a)
	missing := uuid.NewString()

	for _, path := range []string{"/artifacts", "/artifacts/clip.mov"} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			if method == http.MethodHead && path == "/artifacts" {
				continue
			}
			other := h.request(method, "/v1/jobs/"+a+path, h.tenantB, nil)
			never := h.request(method, "/v1/jobs/"+missing+path, h.tenantB, nil)
			expectSameNotFound(t, method, other, a, never, missing)
			expectUnauthenticated(t, h.request(method, "/v1/jobs/"+a+path, "", nil, "Authorization", "Bearer "+tokA), "a worker token on "+path)
		}
	}

	// A client key, even the owner's, opens no worker route.
	expectUnauthenticated(t, h.request(http.MethodGet, "/v1/jobs/"+a+"/inputs/clip.mov", h.tenantA, nil), "a client key on inputs")
	expectUnauthenticated(t, h.putOutput(a, "out.txt", h.keys[h.tenantA], "text/plain", strings.NewReader("x")), "a client key on outputs")

	// Job A's token on job B: refused like any wrong token, nothing written.
	h.worker(http.MethodGet, "/v1/jobs/"+b+"/inputs/clip.mov", tokA, nil).expect(t, http.StatusUnauthorized)
	before := h.kubeJob(h.tenantA, b)
	h.putOutput(b, "out.txt", tokA, "text/plain", strings.NewReader("not yours")).expect(t, http.StatusUnauthorized)
	if after := h.kubeJob(h.tenantA, b); after.ResourceVersion != before.ResourceVersion || len(after.Status.Outputs) != 0 {
		t.Errorf("job a's token changed job b: outputs %+v", after.Status.Outputs)
	}
	if keys := h.storedKeys(h.tenantA, b); len(keys) != 1 {
		t.Errorf("job a's token stored a file for job b: %v", keys)
	}
	if keys := h.storedKeys(h.tenantA, a); len(keys) != 1 {
		t.Errorf("job a's token stored a file for job a by naming job b: %v", keys)
	}
}

// TestWorkerFiles: the worker downloads its input and uploads outputs, which
// are recorded, replaced by name, linked from the result and downloadable;
// refused uploads store nothing and record nothing.
func TestWorkerFiles(t *testing.T) {
	const limit = 4 << 10
	h := newHarness(t, withFileStore(t), withWorkerKey, func(cfg *Config) { cfg.ArtifactLimits.MaxOutputBytes = limit })
	clip := randomBytes(t, 10<<10)
	id := h.jobWithInputs(h.tenantA, map[string][]byte{"clip.mov": clip})
	tok := h.workerToken(h.tenantA, id)

	in := h.worker(http.MethodGet, "/v1/jobs/"+id+"/inputs/clip.mov", tok, nil).expect(t, http.StatusOK)
	if !bytes.Equal(in.body, clip) || in.Header.Get("ETag") != `"`+sha256Hex(clip)+`"` {
		t.Fatalf("input: %d bytes, ETag %q", len(in.body), in.Header.Get("ETag"))
	}
	r := h.worker(http.MethodGet, "/v1/jobs/"+id+"/inputs/other.mov", tok, nil).expect(t, http.StatusNotFound)
	if r.problem(t).Code != problemArtifactNotFound.Code {
		t.Errorf("unknown input: %s", r.body)
	}

	out := randomBytes(t, limit) // exactly the limit
	r = h.putOutput(id, "out.webm", tok, "video/webm", bytes.NewReader(out)).expect(t, http.StatusCreated)
	var got JobArtifact
	r.json(t, &got)
	want := JobArtifact{Name: "out.webm", Kind: artifact.Output, Size: limit, SHA256: sha256Hex(out), ContentType: "video/webm", Href: "/v1/jobs/" + id + "/artifacts/out.webm"}
	if got != want || r.Header.Get("Location") != want.Href {
		t.Fatalf("PUT answered %+v (Location %q), want %+v", got, r.Header.Get("Location"), want)
	}
	if recorded := h.kubeJob(h.tenantA, id).Status.Outputs; len(recorded) != 1 || recorded[0] != (v1alpha1.Artifact{Name: "out.webm", Size: limit, SHA256: sha256Hex(out), ContentType: "video/webm"}) {
		t.Fatalf("status.outputs %+v", recorded)
	}
	h.eventually("the cache has the output", func() bool {
		return len(h.request(http.MethodGet, "/v1/jobs/"+id, h.tenantA, nil).job(t).Outputs) == 1
	})
	dl := h.request(http.MethodGet, want.Href, h.tenantA, nil).expect(t, http.StatusOK)
	if !bytes.Equal(dl.body, out) || dl.Header.Get("Content-Type") != "video/webm" {
		t.Errorf("the output downloads as %d bytes of %q", len(dl.body), dl.Header.Get("Content-Type"))
	}

	// A second PUT of the name replaces it (a body of unknown length, as a
	// pipe sends it); a second name adds one, with the default type.
	second := []byte("second version")
	h.putOutput(id, "out.webm", tok, "video/webm", io.MultiReader(bytes.NewReader(second))).expect(t, http.StatusCreated)
	h.putOutput(id, "log.txt", tok, "", strings.NewReader("done")).expect(t, http.StatusCreated)
	recorded := h.kubeJob(h.tenantA, id).Status.Outputs
	if len(recorded) != 2 || recorded[0].Name != "out.webm" || recorded[0].SHA256 != sha256Hex(second) ||
		recorded[1].Name != "log.txt" || recorded[1].ContentType != "application/octet-stream" {
		t.Fatalf("status.outputs after a replace and an add: %+v", recorded)
	}

	// Refusals store and record nothing.
	before := h.kubeJob(h.tenantA, id)
	keysBefore := h.storedKeys(h.tenantA, id)
	unchanged := func(what string) {
		t.Helper()
		if after := h.kubeJob(h.tenantA, id); after.ResourceVersion != before.ResourceVersion {
			t.Errorf("%s changed the job: outputs %+v", what, after.Status.Outputs)
		}
		if keys := h.storedKeys(h.tenantA, id); strings.Join(keys, ",") != strings.Join(keysBefore, ",") {
			t.Errorf("%s changed the store: %v, was %v", what, keys, keysBefore)
		}
	}
	over := randomBytes(t, limit+1)
	r = h.putOutput(id, "big.bin", tok, "", io.MultiReader(bytes.NewReader(over))).expect(t, http.StatusRequestEntityTooLarge) // streamed
	if p := r.problem(t); p.Code != problemPayloadTooLarge.Code || !strings.Contains(p.Detail, strconv.Itoa(limit)) {
		t.Errorf("413: %s", r.body)
	}
	h.putOutput(id, "big.bin", tok, "", bytes.NewReader(over)).expect(t, http.StatusRequestEntityTooLarge) // Content-Length
	unchanged("an output over the limit")
	r = h.putOutput(id, "clip.mov", tok, "", strings.NewReader("x")).expect(t, http.StatusConflict)
	if r.problem(t).Code != problemArtifactNameTaken.Code {
		t.Errorf("an input's name: %s", r.body)
	}
	unchanged("an output named as an input")
	for _, name := range []string{".hidden", "x.attrs"} {
		h.putOutput(id, name, tok, "", strings.NewReader("x")).expect(t, http.StatusBadRequest)
	}
	h.putOutput(id, "odd.bin", tok, "not a media type", strings.NewReader("x")).expect(t, http.StatusUnsupportedMediaType)
	unchanged("an invalid name or media type")

	// Completed: the result links the outputs; the worker can add none.
	h.updateStatus(h.tenantA, id, func(s *v1alpha1.AsyncJobStatus) { s.State = v1alpha1.StateCompleted })
	before = h.kubeJob(h.tenantA, id)
	r = h.putOutput(id, "late.txt", tok, "", strings.NewReader("late")).expect(t, http.StatusConflict)
	if r.problem(t).Code != problemJobFinished.Code {
		t.Errorf("PUT on a completed job: %s", r.body)
	}
	unchanged("an output of a completed job")
	var result struct {
		Outputs []JobArtifact `json:"outputs"`
	}
	h.request(http.MethodGet, "/v1/jobs/"+id+"/result", h.tenantA, nil).expect(t, http.StatusOK).json(t, &result)
	if len(result.Outputs) != 2 || result.Outputs[0].Href != want.Href || result.Outputs[0].SHA256 != sha256Hex(second) {
		t.Errorf("the result links %+v", result.Outputs)
	}
}

// TestArtifactRedirect: with Redirect on a store that presigns, a download
// is a 303 to a URL the store's signer accepts until URLExpiry, never cached;
// on a store that cannot presign it is served as without Redirect. The
// signer here is fileblob's HMAC signer; TestArtifactsOnS3 follows S3's.
func TestArtifactRedirect(t *testing.T) {
	dir := t.TempDir()
	base, _ := url.Parse("https://files.example/signed")
	signer := fileblob.NewURLSignerHMAC(base, []byte("test-signing-key"))
	bucket, err := fileblob.OpenBucket(dir, &fileblob.Options{URLSigner: signer, NoTempDir: true})
	if err != nil {
		t.Fatal(err)
	}
	st := artifact.New(bucket)
	t.Cleanup(func() { _ = st.Close() })
	expiry := 90 * time.Second
	h := newHarness(t, func(cfg *Config) {
		cfg.Artifacts = st
		cfg.ArtifactLimits.Redirect, cfg.ArtifactLimits.URLExpiry = true, expiry
	})
	id := h.jobWithInputs(h.tenantA, map[string][]byte{"clip.mov": []byte("clip")})
	start := time.Now()
	r := h.request(http.MethodGet, "/v1/jobs/"+id+"/artifacts/clip.mov", h.tenantA, nil).expect(t, http.StatusSeeOther)
	var body artifactRedirect
	r.json(t, &body)
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || body.Location != loc.String() || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("303: Location %q, body %+v, Cache-Control %q", r.Header.Get("Location"), body, r.Header.Get("Cache-Control"))
	}
	key, err := signer.KeyFromURL(context.Background(), loc)
	if err != nil || key != artifact.Key(h.tenantA, id, artifact.Input, "clip.mov") {
		t.Errorf("the signed URL opens %q (%v)", key, err)
	}
	exp, _ := strconv.ParseInt(loc.Query().Get("expiry"), 10, 64)
	if at := time.Unix(exp, 0); at.Before(start.Add(expiry-2*time.Second)) || at.After(time.Now().Add(expiry+time.Second)) ||
		body.ExpiresAt.Sub(at).Abs() > 2*time.Second {
		t.Errorf("the URL expires at %v (body says %v), want about %v from now", at, body.ExpiresAt, expiry)
	}
	// Another tenant learns nothing, not even a URL.
	if r := h.request(http.MethodGet, "/v1/jobs/"+id+"/artifacts/clip.mov", h.tenantB, nil); r.StatusCode != http.StatusNotFound || r.Header.Get("Location") != "" {
		t.Errorf("another tenant: %d, Location %q", r.StatusCode, r.Header.Get("Location"))
	}

	plain, _ := h.sibling(t, withFileStore(t), func(cfg *Config) { cfg.ArtifactLimits.Redirect = true })
	id2 := plain.jobWithInputs(h.tenantA, map[string][]byte{"clip.mov": []byte("clip")})
	if r := plain.request(http.MethodGet, "/v1/jobs/"+id2+"/artifacts/clip.mov", h.tenantA, nil).expect(t, http.StatusOK); string(r.body) != "clip" {
		t.Errorf("a store that cannot presign: %q", r.body)
	}
}

// TestArtifactStoreDown: a store that does not answer (S3 at a closed port)
// is a 503 with Retry-After and no internal text, for downloads and uploads;
// a server without a store is 501; listing needs no store.
func TestArtifactStoreDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	down, err := artifact.Open(context.Background(), "s3://bucket?endpoint=http://"+addr+"&use_path_style=true&region=us-east-1&anonymous=true")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = down.Close() })
	h := newHarness(t, withFileStore(t), withWorkerKey)
	id := h.jobWithInputs(h.tenantA, map[string][]byte{"clip.mov": []byte("clip")})
	tok := h.workerToken(h.tenantA, id)

	sib, _ := h.sibling(t, func(cfg *Config) { cfg.Artifacts = down })
	for what, r := range map[string]response{
		"download":       sib.request(http.MethodGet, "/v1/jobs/"+id+"/artifacts/clip.mov", h.tenantA, nil),
		"worker input":   sib.worker(http.MethodGet, "/v1/jobs/"+id+"/inputs/clip.mov", tok, nil),
		"worker outputs": sib.putOutput(id, "out.txt", tok, "text/plain", strings.NewReader("x")),
	} {
		r.expect(t, http.StatusServiceUnavailable)
		p := r.problem(t)
		if p.Code != problemArtifactsUnavailable.Code || r.Header.Get("Retry-After") == "" ||
			strings.Contains(string(r.body), addr) || strings.Contains(string(r.body), "dial") {
			t.Errorf("%s with the store down: %s, Retry-After %q", what, r.body, r.Header.Get("Retry-After"))
		}
	}
	if outs := h.kubeJob(h.tenantA, id).Status.Outputs; len(outs) != 0 {
		t.Errorf("an output was recorded though the store is down: %+v", outs)
	}
	sib.request(http.MethodGet, "/v1/jobs/"+id+"/artifacts", h.tenantA, nil).expect(t, http.StatusOK)

	none, _ := h.sibling(t, func(cfg *Config) { cfg.Artifacts = nil })
	for _, r := range []response{
		none.request(http.MethodGet, "/v1/jobs/"+id+"/artifacts/clip.mov", h.tenantA, nil),
		none.worker(http.MethodGet, "/v1/jobs/"+id+"/inputs/clip.mov", tok, nil),
		none.putOutput(id, "out.txt", tok, "text/plain", strings.NewReader("x")),
	} {
		if r.expect(t, http.StatusNotImplemented); r.problem(t).Code != problemArtifactsNotConfigured.Code {
			t.Errorf("no store: %s", r.body)
		}
	}
	none.request(http.MethodGet, "/v1/jobs/"+id+"/artifacts", h.tenantA, nil).expect(t, http.StatusOK)
}

// slowBody sends chunks bytes one at a time, every apart.
type slowBody struct {
	chunks int
	every  time.Duration
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.chunks == 0 {
		return 0, io.EOF
	}
	time.Sleep(b.every)
	b.chunks--
	p[0] = 'x'
	return 1, nil
}

// TestOutputUploadOutlastsTheReadTimeout: the server's read timeout bounds
// a whole request, but an output's upload may take longer than it as long
// as its bytes keep coming.
func TestOutputUploadOutlastsTheReadTimeout(t *testing.T) {
	h := newHarness(t, withFileStore(t), withWorkerKey)
	id := h.jobWithInputs(h.tenantA, nil)
	tok := h.workerToken(h.tenantA, id)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, l, h.server.Handler(), testr.New(t), serverTimeouts{readHeader: time.Second, read: 500 * time.Millisecond, idle: time.Minute})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	req, err := http.NewRequest(http.MethodPut, "http://"+l.Addr().String()+"/v1/jobs/"+id+"/outputs/slow.txt", &slowBody{chunks: 10, every: 150 * time.Millisecond})
	h.must(err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := h.client.Do(req)
	h.must(err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("an upload of 1.5 s with a 0.5 s read timeout: %d %s", resp.StatusCode, body)
	}
	if outs := h.kubeJob(h.tenantA, id).Status.Outputs; len(outs) != 1 || outs[0].Size != 10 {
		t.Errorf("status.outputs %+v", outs)
	}
}

// TestArtifactsOnS3: the same routes over S3 (versitygw, which checks
// signatures): ranged downloads seek the S3 reader, a worker's output is
// uploaded, and with Redirect the 303's presigned URL downloads the file
// without credentials, until it expires.
func TestArtifactsOnS3(t *testing.T) {
	s3 := framework.StartS3(t)
	s3.SetEnv(t)
	st, err := artifact.Open(context.Background(), s3.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h := newHarness(t, withWorkerKey, func(cfg *Config) { cfg.Artifacts = st })
	clip := randomBytes(t, 200<<10)
	id := h.jobWithInputs(h.tenantA, map[string][]byte{"clip.mov": clip})
	href := "/v1/jobs/" + id + "/artifacts/clip.mov"
	if r := h.request(http.MethodGet, href, h.tenantA, nil).expect(t, http.StatusOK); !bytes.Equal(r.body, clip) {
		t.Fatalf("download: %d bytes, not the %d stored", len(r.body), len(clip))
	}
	if r := h.request(http.MethodGet, href, h.tenantA, nil, "Range", "bytes=1000-1999").expect(t, http.StatusPartialContent); !bytes.Equal(r.body, clip[1000:2000]) {
		t.Errorf("Range: %d bytes, not bytes 1000-1999", len(r.body))
	}
	h.request(http.MethodGet, href, h.tenantA, nil, "Range", "bytes=999999-").expect(t, http.StatusRequestedRangeNotSatisfiable)
	out := clip[:5000]
	h.putOutput(id, "out.bin", h.workerToken(h.tenantA, id), "application/x-test", bytes.NewReader(out)).expect(t, http.StatusCreated)

	const expiry = 2 * time.Second
	red, _ := h.sibling(t, func(cfg *Config) { cfg.ArtifactLimits.Redirect, cfg.ArtifactLimits.URLExpiry = true, expiry })
	h.eventually("the sibling's cache has the output", func() bool {
		var aj v1alpha1.AsyncJob
		err := red.server.store.cache.Get(context.Background(), types.NamespacedName{Namespace: h.tenantA, Name: id}, &aj)
		return err == nil && len(aj.Status.Outputs) == 1
	})
	r := red.request(http.MethodGet, "/v1/jobs/"+id+"/artifacts/out.bin", h.tenantA, nil).expect(t, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, s3.Endpoint()+"/") || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("303: Location %q, Cache-Control %q", loc, r.Header.Get("Cache-Control"))
	}
	fetch := func() (int, []byte) {
		t.Helper()
		resp, err := http.Get(loc) // no credentials but the URL's
		h.must(err)
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		h.must(err)
		return resp.StatusCode, body
	}
	if status, body := fetch(); status != http.StatusOK || !bytes.Equal(body, out) {
		t.Fatalf("the presigned URL: %d, %d bytes", status, len(body))
	}
	time.Sleep(expiry + 1500*time.Millisecond)
	if status, _ := fetch(); status == http.StatusOK {
		t.Errorf("the presigned URL still downloads %s after it expired", expiry)
	}
}
