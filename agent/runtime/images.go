package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/remotes/docker"
	"github.com/containerd/platforms"
	"go.uber.org/zap"
)

// ImportImage loads an image archive and unpacks every image in it.
func (c *Containerd) ImportImage(ctx context.Context, r io.Reader) ([]string, error) {
	ctx = c.ns(ctx)
	imgs, err := c.client.Import(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("importing image archive: %w", err)
	}
	var names []string
	for _, img := range imgs {
		i := containerd.NewImageWithPlatform(c.client, img, platforms.Default())
		if err := i.Unpack(ctx, c.cfg.Snapshotter); err != nil {
			return nil, fmt.Errorf("unpacking %s: %w", img.Name, err)
		}
		names = append(names, img.Name)
	}
	return names, nil
}

// DefaultPullPolicy is Kubernetes' default: Always for ":latest" (or no
// tag), IfNotPresent otherwise.
func DefaultPullPolicy(normalized string) PullPolicy {
	if len(normalized) >= 7 && normalized[len(normalized)-7:] == ":latest" {
		return PullAlways
	}
	return PullIfNotPresent
}

// EnsureImage makes ref present according to policy.
func (c *Containerd) EnsureImage(ctx context.Context, ref string, policy PullPolicy, auth map[string]RegistryAuth) (Image, error) {
	name, err := NormalizeImage(ref)
	if err != nil {
		return Image{}, err
	}
	if policy == "" {
		policy = DefaultPullPolicy(name)
	}
	ctx = c.ns(ctx)
	if policy != PullAlways {
		img, err := c.localImage(ctx, name)
		switch {
		case err == nil:
			return img, nil
		case !errors.Is(err, ErrNotFound):
			return Image{}, err
		case policy == PullNever:
			return Image{}, fmt.Errorf("%w: image %s is not present and the pull policy is Never", ErrImageNeverPull, name)
		}
	}
	if policy != PullAlways && policy != PullIfNotPresent {
		return Image{}, fmt.Errorf("unknown image pull policy %q", policy)
	}
	return c.pull(ctx, name, auth)
}

// localImage returns an image from the store, unpacking it if needed.
func (c *Containerd) localImage(ctx context.Context, name string) (Image, error) {
	img, err := c.client.GetImage(ctx, name)
	if errdefs.IsNotFound(err) {
		return Image{}, fmt.Errorf("image %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Image{}, fmt.Errorf("looking up image %s: %w", name, err)
	}
	ok, err := img.IsUnpacked(ctx, c.cfg.Snapshotter)
	if err != nil {
		return Image{}, fmt.Errorf("checking whether %s is unpacked: %w", name, err)
	}
	if !ok {
		if err := img.Unpack(ctx, c.cfg.Snapshotter); err != nil {
			return Image{}, fmt.Errorf("unpacking %s: %w", name, err)
		}
	}
	return c.describe(ctx, img)
}

func (c *Containerd) describe(ctx context.Context, img containerd.Image) (Image, error) {
	size, err := img.Size(ctx)
	if err != nil {
		return Image{}, fmt.Errorf("sizing image %s: %w", img.Name(), err)
	}
	return Image{Name: img.Name(), Digest: img.Target().Digest.String(), Size: size}, nil
}

// pull fetches and unpacks an image; every failure wraps ErrImagePull.
func (c *Containerd) pull(ctx context.Context, name string, auth map[string]RegistryAuth) (Image, error) {
	start := c.clock.Now()
	creds := func(host string) (string, string, error) {
		a, ok := lookupAuth(auth, host)
		if !ok {
			return "", "", nil
		}
		if a.IdentityToken != "" {
			return "", a.IdentityToken, nil
		}
		return a.Username, a.Password, nil
	}
	resolver := docker.NewResolver(docker.ResolverOptions{
		Hosts: docker.ConfigureDefaultRegistries(
			docker.WithAuthorizer(docker.NewDockerAuthorizer(docker.WithAuthCreds(creds))),
			docker.WithPlainHTTP(docker.MatchLocalhost),
		),
	})
	img, err := c.client.Pull(ctx, name,
		containerd.WithResolver(resolver),
		containerd.WithPullUnpack,
		containerd.WithPullSnapshotter(c.cfg.Snapshotter),
	)
	if err != nil {
		return Image{}, fmt.Errorf("%w: pulling %s: %v", ErrImagePull, name, err)
	}
	out, err := c.describe(ctx, img)
	if err != nil {
		return Image{}, err
	}
	c.log.Info("pulled image", zap.String("image", name), zap.String("digest", out.Digest),
		zap.Duration("took", c.clock.Now().Sub(start)))
	return out, nil
}

// ListImages lists the images of the runtime's namespace.
func (c *Containerd) ListImages(ctx context.Context) ([]Image, error) {
	ctx = c.ns(ctx)
	imgs, err := c.client.ListImages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	out := make([]Image, 0, len(imgs))
	for _, img := range imgs {
		d, err := c.describe(ctx, img)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ImageExists tells whether ref is in the image store.
func (c *Containerd) ImageExists(ctx context.Context, ref string) (bool, error) {
	name, err := NormalizeImage(ref)
	if err != nil {
		return false, err
	}
	_, err = c.client.ImageService().Get(c.ns(ctx), name)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up image %s: %w", name, err)
	}
	return true, nil
}

// RemoveImage deletes an image; content and snapshots no longer referenced
// are garbage collected. Removing a missing image succeeds.
func (c *Containerd) RemoveImage(ctx context.Context, ref string) error {
	name, err := NormalizeImage(ref)
	if err != nil {
		return err
	}
	err = c.client.ImageService().Delete(c.ns(ctx), name, images.SynchronousDelete())
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("removing image %s: %w", name, err)
	}
	return nil
}
