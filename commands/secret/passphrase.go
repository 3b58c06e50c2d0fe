package secret

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// defaultTTY is the terminal device used when Source.TTY is empty.
const defaultTTY = "/dev/tty"

// defaultPrompt is shown when Passphrase is called with an empty prompt.
const defaultPrompt = "Passphrase: "

// confirmPrompt is shown when the terminal passphrase is asked a second time.
const confirmPrompt = "Confirm passphrase: "

// Source says where a passphrase comes from. Exactly one of File and Env may
// be set; with neither, the terminal is used.
type Source struct {
	// File names a file to read the passphrase from: its first line, with the
	// trailing "\n" or "\r\n" stripped. An empty passphrase is an error.
	File string
	// Env is the NAME of an environment variable holding the passphrase. An
	// unset or empty variable is an error naming the variable.
	Env string
	// TTY is the terminal device to prompt on; "" means "/dev/tty".
	TTY string
}

// noTerminalError is the error Passphrase returns when it would have to ask
// on a terminal but none is available. Its message tells the user how to
// supply a passphrase instead; it wraps ErrNoPassphrase and the cause.
type noTerminalError struct {
	cause error
}

// Error returns the user-facing message.
func (e *noTerminalError) Error() string {
	return "no terminal to ask for the passphrase: give /passphraseFile:PATH or /passphraseEnv:VARNAME"
}

// Unwrap returns ErrNoPassphrase and, if known, why the terminal could not
// be used.
func (e *noTerminalError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrNoPassphrase}
	}
	return []error{ErrNoPassphrase, e.cause}
}

// Passphrase obtains a passphrase from src. prompt is shown on the terminal
// (written to the tty, not stdout). When confirm is true and the terminal is
// used, it asks twice and returns an error if the two differ. With no
// File/Env and no terminal available (opening TTY fails or it is not a
// terminal), it returns an error wrapping ErrNoPassphrase whose message says
// how to supply one: "no terminal to ask for the passphrase: give
// /passphraseFile:PATH or /passphraseEnv:VARNAME".
//
// An empty prompt shows "Passphrase: ". An empty passphrase typed on the
// terminal is an error.
func Passphrase(src Source, prompt string, confirm bool) (string, error) {
	switch {
	case src.File != "" && src.Env != "":
		return "", errors.New("give only one of /passphraseFile and /passphraseEnv")
	case src.File != "":
		return passphraseFromFile(src.File)
	case src.Env != "":
		return passphraseFromEnv(src.Env)
	}
	return passphraseFromTerminal(src.TTY, prompt, confirm)
}

// passphraseFromFile returns the first line of the file at path.
func passphraseFromFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading passphrase file: %w", err)
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 {
		return "", fmt.Errorf("passphrase file %s is empty (the passphrase is its first line)", path)
	}
	return string(line), nil
}

// passphraseFromEnv returns the value of the environment variable name.
func passphraseFromEnv(name string) (string, error) {
	value, ok := os.LookupEnv(name)
	if !ok {
		return "", fmt.Errorf("environment variable %s for the passphrase is not set", name)
	}
	if value == "" {
		return "", fmt.Errorf("environment variable %s for the passphrase is empty", name)
	}
	return value, nil
}

// passphraseFromTerminal prompts for the passphrase on the terminal device
// tty (defaultTTY if empty), twice when confirm is true.
func passphraseFromTerminal(tty, prompt string, confirm bool) (string, error) {
	if tty == "" {
		tty = defaultTTY
	}
	if prompt == "" {
		prompt = defaultPrompt
	}
	f, err := os.OpenFile(tty, os.O_RDWR, 0)
	if err != nil {
		return "", &noTerminalError{cause: err}
	}
	defer f.Close()
	fd := int(f.Fd())
	if !term.IsTerminal(fd) {
		return "", &noTerminalError{cause: fmt.Errorf("%s is not a terminal", tty)}
	}

	first, err := readHidden(f, fd, prompt)
	if err != nil {
		return "", err
	}
	if first == "" {
		return "", errors.New("empty passphrase entered")
	}
	if !confirm {
		return first, nil
	}
	second, err := readHidden(f, fd, confirmPrompt)
	if err != nil {
		return "", err
	}
	if first != second {
		return "", errors.New("passphrases do not match")
	}
	return first, nil
}

// readHidden writes prompt to the terminal f (whose descriptor is fd), reads
// a line without echo and ends the prompt line with a newline.
func readHidden(f *os.File, fd int, prompt string) (string, error) {
	if _, err := fmt.Fprint(f, prompt); err != nil {
		return "", fmt.Errorf("writing passphrase prompt: %w", err)
	}
	input, err := term.ReadPassword(fd)
	defer clear(input)
	// The user's Enter was not echoed: move past the prompt line.
	_, werr := fmt.Fprintln(f)
	if err != nil {
		return "", fmt.Errorf("reading passphrase from terminal: %w", err)
	}
	if werr != nil {
		return "", fmt.Errorf("writing to terminal: %w", werr)
	}
	return string(input), nil
}
