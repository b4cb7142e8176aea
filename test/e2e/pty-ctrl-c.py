# Runs a command under a real pseudo-terminal (python3 pty), sends Ctrl-C (\x03) once the output
# shows <wait-for> (ANSI codes stripped), and prints {"code", "after_ctrl_c_ms", "output"} as JSON.
# usage: pty-ctrl-c.py <wait-for> <timeout-seconds> -- argv...
import os, pty, sys, time, select, json, signal, re, fcntl, termios, struct
wait_for = sys.argv[1].encode(); limit = float(sys.argv[2]); argv = sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
out = b''; sent_at = None; start = time.time()
status = None
while True:
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            break
        out += data
    if sent_at is None and wait_for in re.sub(rb'\x1b\[[0-9;?]*[A-Za-z]', b'', out):
        time.sleep(0.3)
        os.write(fd, b'\x03'); sent_at = time.time()
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st; break
    if time.time() - start > limit:
        os.kill(pid, signal.SIGKILL); break
if status is None:
    _, status = os.waitpid(pid, 0)
try:
    while True:
        r,_,_ = select.select([fd],[],[],0.1)
        if not r: break
        d = os.read(fd, 65536)
        if not d: break
        out += d
except OSError: pass
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
print(json.dumps({"code": code, "after_ctrl_c_ms": None if sent_at is None else round((time.time()-sent_at)*1000), "output": out.decode('utf8','replace')}))
