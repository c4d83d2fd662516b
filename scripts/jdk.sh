# Sourced by ./gatehouse and ./run-tests: find a JDK 21 or newer.
# Every ./gatehouse start runs this, so the usual path starts no process: a fork costs a few
# milliseconds here, and the first version of these functions (dirname, sed, head and readlink for
# each candidate) took about 0.16 s of every start on a machine with several JDKs.

java_major_of() { # sets REPLY to the major version of the java binary $1, or to nothing
  # The JDK's release file says it without starting a JVM: asking java itself took about 0.2 s of
  # every ./gatehouse start. Only a JDK without one (or a 1.x one) is asked.
  local home="${1%/*}" line v=""
  home="${home%/*}"
  REPLY=""
  if [ -f "$home/release" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case "$line" in
        JAVA_VERSION=\"*)
          v="${line#JAVA_VERSION=\"}"
          v="${v%%[!0-9]*}"
          break
          ;;
      esac
    done <"$home/release"
    if [ -n "$v" ] && [ "$v" != 1 ]; then
      REPLY="$v"
      return 0
    fi
  fi
  REPLY="$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1)"
}

jdk_fits() { # true when $1 is a JDK 21 or newer with javac
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  java_major_of "$1/bin/java"
  [ -n "$REPLY" ] && [ "$REPLY" -ge 21 ]
}

find_jdk() { # prints a JAVA_HOME whose java is 21 or newer and which has javac, or fails
  local c java
  if [ -n "${JAVA_HOME:-}" ] && jdk_fits "$JAVA_HOME"; then
    echo "$JAVA_HOME"
    return 0
  fi
  if java="$(command -v java)"; then
    # a java on PATH is usually a link (/usr/bin/java -> /etc/alternatives/...)
    if [ -L "$java" ]; then
      java="$(readlink -f "$java")"
    fi
    c="${java%/*}"
    c="${c%/*}"
    if jdk_fits "$c"; then
      echo "$c"
      return 0
    fi
  fi
  for c in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    if [ -d "$c" ] && jdk_fits "$c"; then
      echo "$c"
      return 0
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
