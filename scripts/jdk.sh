# Sourced by ./gatehouse and ./run-tests: find a JDK 21 or newer.

java_major() { # prints the major version of the java binary $1, or nothing
  # The JDK's release file says it without starting a JVM: asking java itself took about 0.2 s of
  # every ./gatehouse start. Only a JDK without one (or a 1.x one) is asked.
  local release v
  release="$(dirname "$(dirname "$1")")/release"
  if [ -f "$release" ]; then
    v="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release" | head -n 1)"
    if [ -n "$v" ] && [ "$v" != 1 ]; then
      echo "$v"
      return 0
    fi
  fi
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

find_jdk() { # prints a JAVA_HOME whose java is 21 or newer and which has javac, or fails
  local c v candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for c in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$c" ] && candidates+=("$c")
  done
  for c in "${candidates[@]}"; do
    if [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ]; then
      v="$(java_major "$c/bin/java")"
      if [ -n "$v" ] && [ "$v" -ge 21 ]; then
        echo "$c"
        return 0
      fi
    fi
  done
  return 1
}

require_jdk() { # like find_jdk, but explains how to get one when there is none
  if find_jdk; then
    return 0
  fi
  cat >&2 <<'MSG'
gatehouse: no JDK 21 or newer found (looked at JAVA_HOME, the java on PATH and /usr/lib/jvm).
Install one, for example:
  Debian/Ubuntu:  sudo apt-get install openjdk-21-jdk   (or temurin-21-jdk from Adoptium)
  macOS:          brew install openjdk@21
  any system:     https://adoptium.net
then run this again, or point JAVA_HOME at it.
MSG
  return 1
}
