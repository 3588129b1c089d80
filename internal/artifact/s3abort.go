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

package artifact

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
)

// s3Upload notes the bucket and key of an S3 write (nothing on other
// backends), for abortS3Uploads.
type s3Upload struct {
	in    *transfermanager.UploadObjectInput
	start time.Time
}

func (u *s3Upload) beforeWrite(as func(any) bool) error {
	u.start = time.Now()
	as(&u.in)
	return nil
}

// abortS3Uploads aborts the multipart uploads of an aborted write. The S3
// driver's transfer manager sends its own abort with the writer's context,
// which Put has cancelled by then, so that request never leaves and the
// parts stay on the server: invisible to List, yet stored (and billed). Put
// calls this after such a write, with a context of its own. Uploads of the
// key begun in the minute before the write (clock skew) are aborted too: the
// only other writer of a key is a retry of the same file.
func abortS3Uploads(ctx context.Context, b *blob.Bucket, u *s3Upload) {
	if u.in == nil {
		return
	}
	var c *s3.Client
	if !b.As(&c) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: u.in.Bucket, Prefix: u.in.Key})
	if err != nil {
		return // the store is down: nothing more can be done now
	}
	for _, up := range out.Uploads {
		if aws.ToString(up.Key) != aws.ToString(u.in.Key) || (up.Initiated != nil && up.Initiated.Before(u.start.Add(-time.Minute))) {
			continue
		}
		_, _ = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: u.in.Bucket, Key: up.Key, UploadId: up.UploadId})
	}
}
