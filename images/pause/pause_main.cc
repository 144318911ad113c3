// meshgate-pause: the sandbox ("pause") container of every pod on the test node (node.sh). It
// holds the pod's namespaces open and does nothing else: it sleeps until SIGINT or SIGTERM ends
// it with status 0, and reaps any child that is re-parented to it when the pod shares one PID
// namespace. Kubernetes' own pause image does the same; this one is built here so the node needs
// no registry.
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void requestStop(int /*signal*/) {
  stop_requested = 1;
}

void reapChildren(int /*signal*/) {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

bool install(int signal, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  ::sigemptyset(&action.sa_mask);
  action.sa_flags = signal == SIGCHLD ? SA_NOCLDSTOP : 0;
  return ::sigaction(signal, &action, nullptr) == 0;
}

}  // namespace

int main() {
  if (::getpid() != 1) {
    std::fputs(
        "meshgate-pause: not PID 1 of its namespace; it only makes sense as a pod's sandbox\n",
        stderr);
  }
  if (!install(SIGINT, requestStop) || !install(SIGTERM, requestStop) ||
      !install(SIGCHLD, reapChildren)) {
    std::perror("meshgate-pause: sigaction");
    return 1;
  }
  while (stop_requested == 0) {
    ::pause();
  }
  return 0;
}
