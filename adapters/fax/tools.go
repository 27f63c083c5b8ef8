package fax

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// MissingToolError says an external program (or its data) this feature needs is not installed.
type MissingToolError struct {
	Tool    string
	Package string // the Debian package that provides it
	Err     error
}

func (e *MissingToolError) Error() string {
	msg := "fax: " + e.Tool + " is not installed"
	if e.Package != "" {
		msg += " (apt-get install " + e.Package + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *MissingToolError) Unwrap() error { return e.Err }

// ToolError is an external program that ran and failed, or ran out of time.
type ToolError struct {
	Tool   string
	Err    error
	Stderr string // the first 4 KiB it printed on stderr
}

func (e *ToolError) Error() string {
	msg := "fax: " + e.Tool + " failed: " + e.Err.Error()
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += ": " + s
	}
	return msg
}

func (e *ToolError) Unwrap() error { return e.Err }

// ErrUnsupported is a document OCR or preview cannot read.
var ErrUnsupported = errors.New("fax: unsupported document format")

// lookPath finds a tool, or explains which package brings it.
func lookPath(tool, pkg string) (string, error) {
	p, err := exec.LookPath(tool)
	if err != nil {
		return "", &MissingToolError{Tool: tool, Package: pkg, Err: err}
	}
	return p, nil
}

// capBuffer keeps the first max bytes written and remembers whether more came.
type capBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room < len(p) {
		c.overflow = true
		if room > 0 {
			c.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return c.buf.Write(p)
}

// ToolMemory bounds the address space of every tool run on a document (RLIMIT_AS). Fax
// documents come from anyone who can forge a fax gateway's From: a few hundred bytes of PDF
// or TIFF can declare pages that take gigabytes to draw. 1 GiB is four times what tesseract
// with the Italian model and pdftoppm at the page sizes we ask for need (measured: 160 MB and
// 35 MB resident); a tool that wants more fails at once instead of pushing the host to swap.
const ToolMemory = 1 << 30

// limitedCommand runs path under prlimit (util-linux) with the ToolMemory address-space
// limit, or, where prlimit is missing, under sh's ulimit -v: both set the limit in the child
// before exec, which Go's os/exec cannot do itself.
func limitedCommand(ctx context.Context, path string, args []string) *exec.Cmd {
	if prlimit, err := exec.LookPath("prlimit"); err == nil {
		return exec.CommandContext(ctx, prlimit, append([]string{fmt.Sprintf("--as=%d", ToolMemory), "--", path}, args...)...)
	}
	script := fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, ToolMemory>>10)
	return exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", script, path}, args...)...)
}

// ToolNiceness is the scheduling niceness every tool runs at. OCR and previews are background
// work that can take a core for seconds a page; at niceness 10 the kernel gives the gateway's
// own threads (a webhook, a mail's 250, an operator's page) the CPU first when both want it,
// and the tool what is left (BENCHMARKS.md, issue 14: a busy day with OCR on).
const ToolNiceness = 10

// ToolsCPU is the CPU time this process's finished tools have used so far (the kernel's
// count for reaped children). The difference across one document's work tells a document
// that costs much from one whose tools, at ToolNiceness, waited for a busy host.
func ToolsCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0, fmt.Errorf("fax: reading the tools' CPU time: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// run executes a tool with bounded output and memory, at ToolNiceness, killing it when ctx ends.
func run(ctx context.Context, path string, args []string, env []string, maxStdout int) ([]byte, error) {
	cmd := limitedCommand(ctx, path, args)
	cmd.Env = append(os.Environ(), env...)
	stdout := &capBuffer{max: maxStdout}
	stderr := &capBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Without WaitDelay a child that inherited the pipes could keep Wait from returning.
	cmd.WaitDelay = 2 * time.Second
	tool := filepath.Base(path)
	if err := cmd.Start(); err != nil {
		return nil, &ToolError{Tool: tool, Err: err}
	}
	// Set on the child's pid, which keeps it when prlimit or sh execs the tool, and which
	// the tool's own children inherit. Refused only when the gateway itself runs nicer than
	// ToolNiceness (lowering it needs privilege; the child inherited the gateway's), or when
	// the child has exited already, which Wait reports.
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, cmd.Process.Pid, ToolNiceness); err != nil &&
		!errors.Is(err, syscall.ESRCH) && !errors.Is(err, syscall.EACCES) && !errors.Is(err, syscall.EPERM) {
		_ = cmd.Process.Kill() // the error below says why; Wait reaps it
		_ = cmd.Wait()
		return nil, &ToolError{Tool: tool, Err: fmt.Errorf("setting its niceness: %w", err)}
	}
	err := cmd.Wait()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, &ToolError{Tool: tool, Err: ctxErr, Stderr: stderr.buf.String()}
	}
	if err != nil {
		return nil, &ToolError{Tool: tool, Err: err, Stderr: stderr.buf.String()}
	}
	if stdout.overflow {
		return nil, &ToolError{Tool: tool, Err: fmt.Errorf("output larger than %d bytes", maxStdout)}
	}
	return stdout.buf.Bytes(), nil
}

// withTimeout bounds ctx by d (a zero d keeps ctx as it is).
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// writeTemp puts the document in a fresh private directory, since the tools read files.
func writeTemp(data []byte, name string) (dir, path string, err error) {
	dir, err = os.MkdirTemp("", "sportello-fax-*")
	if err != nil {
		return "", "", fmt.Errorf("fax: temporary directory: %w", err)
	}
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		_ = os.RemoveAll(dir) // best-effort cleanup; the write's error is returned
		return "", "", fmt.Errorf("fax: temporary file: %w", err)
	}
	return dir, path, nil
}

func extension(k Kind) string {
	switch k {
	case KindTIFF:
		return ".tif"
	case KindPDF:
		return ".pdf"
	case KindPNG:
		return ".png"
	case KindJPEG:
		return ".jpg"
	}
	return ".bin"
}
