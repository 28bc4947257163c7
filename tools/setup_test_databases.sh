#!/usr/bin/env bash
# Make sure the local PostgreSQL (127.0.0.1:5432) and MariaDB
# (127.0.0.1:3306) servers are up, and give user scott (password tiger)
# full rights on database "test" on both, and the right to create and
# drop the suite's per-run databases (test_aa_*).  Safe to run again
# and again.
#
# Needs root (or the servers' admin accounts): PostgreSQL's "postgres"
# role over TCP or the local socket, MariaDB's root with an empty password.
set -euo pipefail

say() { printf 'setup_test_databases: %s\n' "$*"; }

wait_for() {  # wait_for WHAT COMMAND...: retry for up to 30 seconds
    local what=$1; shift
    for _ in $(seq 60); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    say "$what did not come up within 30 seconds" >&2
    return 1
}

install_if_missing() {  # install_if_missing COMMAND PACKAGE...
    command -v "$1" >/dev/null 2>&1 && return 0
    say "installing ${*:2}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${@:2}" >/dev/null
}

pg() { psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

setup_postgresql() {
    install_if_missing pg_ctlcluster postgresql
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
        say "starting PostgreSQL"
        for version in $(ls /etc/postgresql); do
            pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        done
        wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
    fi
    pg -d postgres <<'SQL'
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scott') THEN
        CREATE ROLE scott LOGIN CREATEDB PASSWORD 'tiger';
    ELSE
        ALTER ROLE scott LOGIN CREATEDB PASSWORD 'tiger';
    END IF;
END $$;
SQL
    if [ -z "$(pg -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'test'")" ]; then
        pg -d postgres -c 'CREATE DATABASE test'
    fi
    pg -d postgres -c 'GRANT ALL PRIVILEGES ON DATABASE test TO scott'
    pg -d test -c 'GRANT ALL ON SCHEMA public TO scott'
    say "PostgreSQL ready: scott@127.0.0.1:5432/test"
}

setup_mariadb() {
    install_if_missing mariadbd mariadb-server
    if ! mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
        say "starting MariaDB"
        mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
        wait_for MariaDB mariadb-admin -h 127.0.0.1 -u root ping
    fi
    mariadb -h 127.0.0.1 -u root <<'SQL'
CREATE DATABASE IF NOT EXISTS test;
CREATE USER IF NOT EXISTS 'scott'@'%' IDENTIFIED BY 'tiger';
CREATE USER IF NOT EXISTS 'scott'@'localhost' IDENTIFIED BY 'tiger';
ALTER USER 'scott'@'%' IDENTIFIED BY 'tiger';
ALTER USER 'scott'@'localhost' IDENTIFIED BY 'tiger';
GRANT ALL PRIVILEGES ON test.* TO 'scott'@'%';
GRANT ALL PRIVILEGES ON test.* TO 'scott'@'localhost';
GRANT ALL PRIVILEGES ON `test\_aa\_%`.* TO 'scott'@'%';
GRANT ALL PRIVILEGES ON `test\_aa\_%`.* TO 'scott'@'localhost';
FLUSH PRIVILEGES;
SQL
    say "MariaDB ready: scott@127.0.0.1:3306/test"
}

setup_postgresql
setup_mariadb
