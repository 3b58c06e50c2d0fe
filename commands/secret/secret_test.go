package secret

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"golang.org/x/sys/unix"
)

// testWorkFactor keeps scrypt cheap in tests.
const testWorkFactor = 10

const sampleTemplate = `# pool template
name = "web"
runtime = "dotnet"

[process]
identity = "ApplicationPoolIdentity"
idleTimeout = "20m"
maxProcesses = 4
`

// mustEncrypt encrypts plaintext with the test work factor or fails the test.
func mustEncrypt(t *testing.T, plaintext []byte, passphrase string) []byte {
	t.Helper()
	armored, err := Encrypt(plaintext, passphrase, testWorkFactor)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return armored
}

// dearmor returns the binary age file inside armored.
func dearmor(t *testing.T, armored []byte) []byte {
	t.Helper()
	raw, err := io.ReadAll(armor.NewReader(bytes.NewReader(armored)))
	if err != nil {
		t.Fatalf("dearmor: %v", err)
	}
	return raw
}

// rearmor wraps a binary age file in armor.
func rearmor(t *testing.T, raw []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := armor.NewWriter(&buf)
	if _, err := w.Write(raw); err != nil {
		t.Fatalf("armor write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("armor close: %v", err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		plaintext  []byte
		passphrase string
		workFactor int
	}{
		{"template", []byte(sampleTemplate), "correct horse battery staple", testWorkFactor},
		{"empty plaintext", []byte{}, "pw", testWorkFactor},
		{"unicode passphrase", []byte("a = 1\n"), "pässwörd ✓ with spaces ", testWorkFactor},
		{"larger than one chunk", bytes.Repeat([]byte("x = 1\n"), 20000), "pw", testWorkFactor},
		{"other work factor", []byte(sampleTemplate), "pw", 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			armored, err := Encrypt(tt.plaintext, tt.passphrase, tt.workFactor)
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if !IsEncrypted(armored) {
				t.Errorf("IsEncrypted(Encrypt(...)) = false")
			}
			if !bytes.HasSuffix(armored, []byte("\n")) {
				t.Errorf("armored output does not end in a newline")
			}
			if !bytes.HasSuffix(armored, []byte(armor.Footer+"\n")) {
				t.Errorf("armored output does not end with the footer line")
			}
			if bytes.Contains(armored, tt.plaintext) && len(tt.plaintext) > 0 {
				t.Errorf("armored output contains the plaintext")
			}
			raw := dearmor(t, armored)
			if !bytes.Contains(raw, []byte("\n-> scrypt ")) {
				t.Fatalf("no scrypt stanza in header:\n%s", raw)
			}
			if !bytes.Contains(raw, []byte(fmt.Sprintf(" %d\n", tt.workFactor))) {
				t.Errorf("header does not state work factor %d", tt.workFactor)
			}
			got, err := Decrypt(armored, tt.passphrase)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Decrypt = %q, want %q", got, tt.plaintext)
			}
		})
	}
}

func TestEncryptSaltsEveryTime(t *testing.T) {
	a := mustEncrypt(t, []byte(sampleTemplate), "pw")
	b := mustEncrypt(t, []byte(sampleTemplate), "pw")
	if bytes.Equal(a, b) {
		t.Errorf("two encryptions of the same template are identical")
	}
}

func TestEncryptErrors(t *testing.T) {
	tests := []struct {
		name       string
		passphrase string
		workFactor int
	}{
		{"empty passphrase", "", testWorkFactor},
		{"negative work factor", "pw", -1},
		{"work factor above decrypt limit", "pw", 23},
		{"work factor age would panic on", "pw", 31},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Encrypt([]byte(sampleTemplate), tt.passphrase, tt.workFactor)
			if err == nil {
				t.Fatalf("Encrypt succeeded, want error; output:\n%s", out)
			}
		})
	}
}

func TestDecryptWrongPassphrase(t *testing.T) {
	armored := mustEncrypt(t, []byte(sampleTemplate), "right")
	for _, pass := range []string{"wrong", "Right", "right ", "righ"} {
		t.Run(pass, func(t *testing.T) {
			got, err := Decrypt(armored, pass)
			if !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("Decrypt(%q) error = %v, want ErrWrongPassphrase", pass, err)
			}
			if got != nil {
				t.Errorf("Decrypt returned plaintext %q with an error", got)
			}
		})
	}
}

func TestDecryptEmptyPassphrase(t *testing.T) {
	armored := mustEncrypt(t, []byte(sampleTemplate), "right")
	if _, err := Decrypt(armored, ""); err == nil {
		t.Fatal("Decrypt with empty passphrase succeeded")
	}
}

func TestDecryptLeadingWhitespace(t *testing.T) {
	armored := mustEncrypt(t, []byte(sampleTemplate), "pw")
	for _, prefix := range []string{"\n", "\r\n\r\n", "  \t", " \n\t "} {
		got, err := Decrypt(append([]byte(prefix), armored...), "pw")
		if err != nil {
			t.Fatalf("Decrypt with prefix %q: %v", prefix, err)
		}
		if string(got) != sampleTemplate {
			t.Errorf("Decrypt with prefix %q = %q", prefix, got)
		}
	}
}

func TestDecryptTrailingWhitespace(t *testing.T) {
	armored := mustEncrypt(t, []byte(sampleTemplate), "pw")
	got, err := Decrypt(append(armored, "\n\n  \n"...), "pw")
	if err != nil {
		t.Fatalf("Decrypt with trailing whitespace: %v", err)
	}
	if string(got) != sampleTemplate {
		t.Errorf("Decrypt = %q", got)
	}
}

func TestDecryptMalformed(t *testing.T) {
	const pass = "pw"
	armored := mustEncrypt(t, []byte(sampleTemplate), pass)
	text := string(armored)
	lines := strings.SplitAfter(strings.TrimSuffix(text, "\n"), "\n")
	raw := dearmor(t, armored)

	// replaceRaw edits the binary age file and armors it again, so the
	// damage reaches age rather than being caught by the armor decoder.
	replaceRaw := func(old, new string) []byte {
		t.Helper()
		if !bytes.Contains(raw, []byte(old)) {
			t.Fatalf("binary age file does not contain %q", old)
		}
		return rearmor(t, bytes.Replace(raw, []byte(old), []byte(new), 1))
	}
	flipByte := func(i int) []byte {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return rearmor(t, b)
	}
	macAt := bytes.Index(raw, []byte("\n--- ")) + len("\n--- ")
	macFlipped := bytes.Clone(raw)
	if macFlipped[macAt] == 'A' {
		macFlipped[macAt] = 'B'
	} else {
		macFlipped[macAt] = 'A'
	}

	tests := []struct {
		name    string
		input   []byte
		wantMsg string // substring of the error message, if not empty
	}{
		{"empty", nil, "not an age-encrypted template"},
		{"plain TOML", []byte(sampleTemplate), "not an age-encrypted template"},
		{"header only", []byte(armor.Header + "\n"), "not an age-encrypted template"},
		{"header and footer", []byte(armor.Header + "\n" + armor.Footer + "\n"), ""},
		{"footer missing", []byte(strings.Join(lines[:len(lines)-1], "")), "not an age-encrypted template"},
		{"truncated to half", armored[:len(armored)/2], "not an age-encrypted template"},
		{"last data line dropped", []byte(strings.Join(append(lines[:len(lines)-2:len(lines)-2], lines[len(lines)-1]), "")), ""},
		{"invalid base64 character", []byte(strings.Replace(text, lines[1][:4], "!!!!", 1)), "not an age-encrypted template"},
		{"trailing garbage", append(bytes.Clone(armored), "garbage\n"...), "not an age-encrypted template"},
		{"prose before header", append([]byte("hello\n"), armored...), "not an age-encrypted template"},
		{"unknown version", replaceRaw("age-encryption.org/v1", "age-encryption.org/v9"), ""},
		{"work factor too large", replaceRaw(fmt.Sprintf(" %d\n", testWorkFactor), " 23\n"), "work factor"},
		{"header MAC changed", rearmor(t, macFlipped), "MAC"},
		{"payload byte flipped", flipByte(len(raw) - 1), ""},
		{"payload truncated", rearmor(t, raw[:len(raw)-10]), ""},
		{"payload removed", rearmor(t, raw[:macAt+43+1]), ""},
		{"no such armor at all", []byte("-----BEGIN AGE ENCRYPTED FILE-----garbage"), "not an age-encrypted template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decrypt(tt.input, pass)
			if err == nil {
				t.Fatalf("Decrypt succeeded with %q", got)
			}
			if errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("Decrypt error %v wraps ErrWrongPassphrase for damaged input", err)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Decrypt error %q does not mention %q", err, tt.wantMsg)
			}
			if got != nil {
				t.Errorf("Decrypt returned plaintext %q with an error", got)
			}
		})
	}
}

func TestDecryptNotPassphraseEncrypted(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, sampleTemplate); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = Decrypt(buf.Bytes(), "pw")
	if err == nil {
		t.Fatal("Decrypt of an X25519 file with a passphrase succeeded")
	}
	if errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("error %v wraps ErrWrongPassphrase; the file has no passphrase", err)
	}
	if !strings.Contains(err.Error(), "not passphrase-encrypted") {
		t.Errorf("error %q does not say the file is not passphrase-encrypted", err)
	}
}

func TestIsEncrypted(t *testing.T) {
	armored := mustEncrypt(t, []byte(sampleTemplate), "pw")
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"armored", armored, true},
		{"header line only", []byte(armor.Header + "\n"), true},
		{"leading newlines", append([]byte("\n\n"), armored...), true},
		{"leading CRLF", append([]byte("\r\n"), armored...), true},
		{"leading spaces and tabs", append([]byte(" \t \n  "), armored...), true},
		{"nil", nil, false},
		{"empty", []byte{}, false},
		{"whitespace only", []byte(" \n\t\r\n"), false},
		{"plain TOML", []byte(sampleTemplate), false},
		{"TOML mentioning age", []byte("comment = \"" + armor.Header + "\"\n"), false},
		{"text before header", append([]byte("x"), armored...), false},
		{"truncated header", []byte(armor.Header[:20]), false},
		{"lowercase header", []byte(strings.ToLower(armor.Header)), false},
		{"binary age file", dearmor(t, armored), false},
		{"PEM of another type", []byte("-----BEGIN PRIVATE KEY-----\n"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsEncrypted(tt.data); got != tt.want {
				t.Errorf("IsEncrypted(%.40q) = %v, want %v", tt.data, got, tt.want)
			}
		})
	}
}

func TestPassphraseFromFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		content  string
		want     string
		wantErr  bool
		contains string
	}{
		{"no newline", "s3cret", "s3cret", false, ""},
		{"trailing newline", "s3cret\n", "s3cret", false, ""},
		{"CRLF", "s3cret\r\n", "s3cret", false, ""},
		{"only first line", "s3cret\nsecond line\n", "s3cret", false, ""},
		{"first line of CRLF file", "s3cret\r\nsecond\r\n", "s3cret", false, ""},
		{"inner spaces kept", " two words \n", " two words ", false, ""},
		{"empty file", "", "", true, "empty"},
		{"newline only", "\n", "", true, "empty"},
		{"CRLF only", "\r\n", "", true, "empty"},
		{"empty first line", "\nsecret\n", "", true, "empty"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("pass%d", i))
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := Passphrase(Source{File: path, TTY: filepath.Join(dir, "no-tty")}, "unused: ", true)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Passphrase = %q, want error", got)
				}
				if !strings.Contains(err.Error(), tt.contains) || !strings.Contains(err.Error(), path) {
					t.Errorf("error %q should mention %q and the path", err, tt.contains)
				}
				return
			}
			if err != nil {
				t.Fatalf("Passphrase: %v", err)
			}
			if got != tt.want {
				t.Errorf("Passphrase = %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(dir, "does-not-exist")
		_, err := Passphrase(Source{File: path}, "", false)
		if err == nil {
			t.Fatal("Passphrase from a missing file succeeded")
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v does not wrap fs.ErrNotExist", err)
		}
		if errors.Is(err, ErrNoPassphrase) {
			t.Errorf("error %v wraps ErrNoPassphrase; a source was given", err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the file", err)
		}
	})
}

func TestPassphraseFromEnv(t *testing.T) {
	const name = "POOLCTL_TEST_PASSPHRASE"
	tests := []struct {
		name    string
		set     bool
		value   string
		want    string
		wantErr bool
	}{
		{"set", true, "from env", "from env", false},
		{"newline kept", true, "pw\n", "pw\n", false},
		{"empty", true, "", "", true},
		{"unset", false, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// t.Setenv restores the variable afterwards, even when it is
			// unset below.
			t.Setenv(name, tt.value)
			if !tt.set {
				os.Unsetenv(name)
			}
			got, err := Passphrase(Source{Env: name, TTY: "/nonexistent/tty"}, "", true)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Passphrase = %q, want error", got)
				}
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error %q does not name the variable %s", err, name)
				}
				if errors.Is(err, ErrNoPassphrase) {
					t.Errorf("error %v wraps ErrNoPassphrase; a source was given", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Passphrase: %v", err)
			}
			if got != tt.want {
				t.Errorf("Passphrase = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPassphraseFileAndEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(path, []byte("file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("POOLCTL_TEST_PASSPHRASE", "env")
	got, err := Passphrase(Source{File: path, Env: "POOLCTL_TEST_PASSPHRASE"}, "", false)
	if err == nil {
		t.Fatalf("Passphrase with both File and Env = %q, want error", got)
	}
	if errors.Is(err, ErrNoPassphrase) {
		t.Errorf("error %v wraps ErrNoPassphrase", err)
	}
}

func TestPassphraseNoTerminal(t *testing.T) {
	regular := filepath.Join(t.TempDir(), "not-a-tty")
	if err := os.WriteFile(regular, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const wantMsg = "no terminal to ask for the passphrase: give /passphraseFile:PATH or /passphraseEnv:VARNAME"
	tests := []struct {
		name    string
		tty     string
		confirm bool
	}{
		{"nonexistent device", filepath.Join(t.TempDir(), "no", "such", "tty"), false},
		{"nonexistent device with confirm", "/nonexistent/poolctl-test-tty", true},
		{"regular file", regular, false},
		{"dev null", os.DevNull, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Passphrase(Source{TTY: tt.tty}, "Passphrase: ", tt.confirm)
			if !errors.Is(err, ErrNoPassphrase) {
				t.Fatalf("Passphrase = %q, %v; want ErrNoPassphrase", got, err)
			}
			if err.Error() != wantMsg {
				t.Errorf("error message = %q, want %q", err, wantMsg)
			}
		})
	}

	t.Run("cause kept", func(t *testing.T) {
		_, err := Passphrase(Source{TTY: "/nonexistent/poolctl-test-tty"}, "", false)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v does not wrap the open error", err)
		}
	})

	t.Run("regular file not modified", func(t *testing.T) {
		data, err := os.ReadFile(regular)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != "s3cret\n" {
			t.Errorf("prompt was written to a non-terminal: %q", data)
		}
	})
}

// openPTY opens a pseudo-terminal pair and returns its master side and the
// path of its slave device. It skips the test when no pty is available.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	conn, err := master.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n uint32
	var ioctlErr error
	if err := conn.Control(func(fd uintptr) {
		if ioctlErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioctlErr != nil {
			return
		}
		n, ioctlErr = unix.IoctlGetUint32(int(fd), unix.TIOCGPTN)
	}); err != nil {
		t.Fatal(err)
	}
	if ioctlErr != nil {
		t.Skipf("cannot set up pseudo-terminal: %v", ioctlErr)
	}
	slave := fmt.Sprintf("/dev/pts/%d", n)
	if _, err := os.Stat(slave); err != nil {
		t.Skipf("pseudo-terminal slave unavailable: %v", err)
	}
	return master, slave
}

func TestPassphraseTerminal(t *testing.T) {
	tests := []struct {
		name    string
		prompt  string
		confirm bool
		input   string
		want    string
		wantErr string
		prompts []string
	}{
		{"single", "Template passphrase: ", false, "s3cret\n", "s3cret", "", []string{"Template passphrase: "}},
		{"default prompt", "", false, "pw\n", "pw", "", []string{"Passphrase: "}},
		{"confirmed", "New passphrase: ", true, "two words\ntwo words\n", "two words", "", []string{"New passphrase: ", "Confirm passphrase: "}},
		{"confirm mismatch", "New passphrase: ", true, "one\ntwo\n", "", "do not match", []string{"New passphrase: ", "Confirm passphrase: "}},
		{"empty entered", "Passphrase: ", true, "\n", "", "empty", []string{"Passphrase: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			master, slave := openPTY(t)
			// Pretype the answers; the line discipline keeps them until read.
			if _, err := io.WriteString(master, tt.input); err != nil {
				t.Fatal(err)
			}
			output := make(chan []byte, 1)
			go func() {
				var buf bytes.Buffer
				chunk := make([]byte, 256)
				for {
					n, err := master.Read(chunk)
					buf.Write(chunk[:n])
					if err != nil {
						break
					}
				}
				output <- buf.Bytes()
			}()

			got, err := Passphrase(Source{TTY: slave}, tt.prompt, tt.confirm)

			// Reads from the master fail once the slave is closed; give the
			// reader a moment to collect what was written, then stop it.
			var shown []byte
			select {
			case shown = <-output:
			case <-time.After(2 * time.Second):
				master.Close()
				shown = <-output
			}

			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Passphrase = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				if errors.Is(err, ErrNoPassphrase) {
					t.Errorf("error %v wraps ErrNoPassphrase; a terminal was there", err)
				}
			} else {
				if err != nil {
					t.Fatalf("Passphrase: %v", err)
				}
				if got != tt.want {
					t.Errorf("Passphrase = %q, want %q", got, tt.want)
				}
			}
			rest := string(shown)
			for _, p := range tt.prompts {
				i := strings.Index(rest, p)
				if i < 0 {
					t.Errorf("terminal output %q lacks prompt %q (in order)", shown, p)
					break
				}
				rest = rest[i+len(p):]
			}
			if !strings.Contains(string(shown), "\n") {
				t.Errorf("no newline printed after the input: %q", shown)
			}
		})
	}
}

func TestWorkFactorFromEnv(t *testing.T) {
	const name = "POOLCTL_AGE_WORK_FACTOR"
	tests := []struct {
		name    string
		set     bool
		value   string
		want    int
		wantErr bool
	}{
		{"unset", false, "", 0, false},
		{"empty", true, "", 0, false},
		{"minimum", true, "10", 10, false},
		{"age default", true, "18", 18, false},
		{"maximum", true, "22", 22, false},
		{"below range", true, "9", 0, true},
		{"above range", true, "23", 0, true},
		{"zero", true, "0", 0, true},
		{"negative", true, "-12", 0, true},
		{"not a number", true, "high", 0, true},
		{"float", true, "12.5", 0, true},
		{"spaces", true, " 12", 0, true},
		{"huge", true, "99999999999999999999", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(name, tt.value)
			if !tt.set {
				os.Unsetenv(name)
			}
			got, err := WorkFactorFromEnv()
			if tt.wantErr {
				if err == nil {
					t.Fatalf("WorkFactorFromEnv = %d, want error", got)
				}
				msg := err.Error()
				if !strings.Contains(msg, name) || !strings.Contains(msg, "10") || !strings.Contains(msg, "22") {
					t.Errorf("error %q should name %s and the range 10..22", msg, name)
				}
				return
			}
			if err != nil {
				t.Fatalf("WorkFactorFromEnv: %v", err)
			}
			if got != tt.want {
				t.Errorf("WorkFactorFromEnv = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestWorkFactorFromEnvUsableByEncrypt(t *testing.T) {
	t.Setenv("POOLCTL_AGE_WORK_FACTOR", "11")
	wf, err := WorkFactorFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	armored, err := Encrypt([]byte(sampleTemplate), "pw", wf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dearmor(t, armored), []byte(" 11\n")) {
		t.Errorf("work factor from the environment not used")
	}
	if _, err := Decrypt(armored, "pw"); err != nil {
		t.Fatal(err)
	}
}
