# Debian package: `cpack -G DEB` (or `cpack`) in a build directory produces
# mailrelay-exporter_<version>_amd64.deb with
#   /usr/bin/mailrelay_exporter, its man page (generated from --help by help2man at build time),
#   /lib/systemd/system/mailrelay-exporter.service (hardened; runs as the system user
#   mailrelay-exporter that postinst creates), /etc/default/mailrelay-exporter (flags, conffile),
#   /usr/libexec/mailrelay-exporter/setup-access (postinst runs it: the unit drop-in with the
#   groups that own this host's logs and spool, ACLs on root-only logs),
#   /usr/share/mailrelay-exporter/{dashboards,alerts,respond}/ and /usr/share/doc/mailrelay-exporter/.
# Tested by tests/packaging/deb_check.sh (ctest packaging.deb). scripts/release.sh runs the same
# cpack in its static build (MAILRELAY_STATIC) for the release .deb, and takes the RPM's and the
# tarball's units from <build>/packaging/{rpm,tarball}/ (all three from one template).
set(MAILRELAY_PACKAGING_DIR ${CMAKE_SOURCE_DIR}/packaging)

# Man page from --help. help2man is a Debian package (scripts/install-deps.sh installs it);
# without it the package has no man page and packaging.deb fails.
find_program(HELP2MAN_EXECUTABLE help2man)
find_program(GZIP_EXECUTABLE gzip)
if(HELP2MAN_EXECUTABLE AND GZIP_EXECUTABLE)
  set(_man ${CMAKE_BINARY_DIR}/man/mailrelay_exporter.1)
  add_custom_command(
    OUTPUT ${_man}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0
            ${HELP2MAN_EXECUTABLE} --no-info --no-discard-stderr --section=1
            --version-string=${PROJECT_VERSION}
            --include=${MAILRELAY_PACKAGING_DIR}/mailrelay_exporter.h2m
            --output=${_man} $<TARGET_FILE:mailrelay_exporter>
    COMMAND ${GZIP_EXECUTABLE} -9nf ${_man}
    DEPENDS mailrelay_exporter ${MAILRELAY_PACKAGING_DIR}/mailrelay_exporter.h2m
    COMMENT "Generating the man page from mailrelay_exporter --help"
    VERBATIM)
  add_custom_target(mailrelay_manpage ALL DEPENDS ${_man}.gz)
  install(FILES ${_man}.gz DESTINATION share/man/man1)
else()
  message(STATUS "help2man not found: no man page (scripts/install-deps.sh installs it)")
endif()

# The unit, in three flavours: binary path, flags file and documentation differ.
#   deb      /usr/bin, /etc/default/mailrelay-exporter          (this package)
#   rpm      /usr/bin, /etc/sysconfig/mailrelay-exporter        (packaging/rpm/*.spec)
#   tarball  /usr/local/bin, /etc/default/mailrelay-exporter    (installed by hand, README)
foreach(_flavour deb rpm tarball)
  set(MAILRELAY_UNIT_FLAVOUR ${_flavour})
  set(MAILRELAY_UNIT_BINARY /usr/bin/mailrelay_exporter)
  set(MAILRELAY_UNIT_ENVFILE /etc/default/mailrelay-exporter)
  set(MAILRELAY_UNIT_DOCUMENTATION
      "man:mailrelay_exporter(1) file:/usr/share/doc/mailrelay-exporter/README.md")
  if(_flavour STREQUAL "rpm")
    set(MAILRELAY_UNIT_ENVFILE /etc/sysconfig/mailrelay-exporter)
  elseif(_flavour STREQUAL "tarball")
    set(MAILRELAY_UNIT_BINARY /usr/local/bin/mailrelay_exporter)
    set(MAILRELAY_UNIT_DOCUMENTATION "file:/usr/local/share/doc/mailrelay-exporter/README.md")
  endif()
  configure_file(${MAILRELAY_PACKAGING_DIR}/mailrelay-exporter.service.in
                 ${CMAKE_BINARY_DIR}/packaging/${_flavour}/mailrelay-exporter.service @ONLY)
endforeach()
install(FILES ${CMAKE_BINARY_DIR}/packaging/deb/mailrelay-exporter.service
        DESTINATION /lib/systemd/system)
install(PROGRAMS ${MAILRELAY_PACKAGING_DIR}/setup-access DESTINATION libexec/mailrelay-exporter)
install(FILES ${MAILRELAY_PACKAGING_DIR}/mailrelay-exporter.default
        DESTINATION /etc/default RENAME mailrelay-exporter)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/dashboards/
        DESTINATION share/mailrelay-exporter/dashboards FILES_MATCHING PATTERN "*.json")
install(DIRECTORY ${CMAKE_SOURCE_DIR}/alerts/ DESTINATION share/mailrelay-exporter/alerts
        PATTERN bench EXCLUDE)
# respond's MTA snippets and Alertmanager route (docs/respond.md).
install(DIRECTORY ${CMAKE_SOURCE_DIR}/contrib/respond/ DESTINATION share/mailrelay-exporter/respond)
install(FILES ${CMAKE_SOURCE_DIR}/LICENSE ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/metrics.md
              ${CMAKE_SOURCE_DIR}/docs/runbook.md
        DESTINATION share/doc/mailrelay-exporter)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mailrelay-exporter)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "mailrelay_exporter")
set(CPACK_PACKAGE_CONTACT "mailrelay_exporter maintainers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Prometheus exporter for Exim/Postfix mail relays")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "Follows Exim's (and Postfix's) logs, classifies accepted mail into lfd's relay classes, "
       "counts it per authenticated user, client IP and local script user, and reads the queue "
       "from the spool. Ships a hardened systemd unit, alert rules and Grafana dashboards.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The static release binary (MAILRELAY_STATIC) depends on no shared library.
if(MAILRELAY_STATIC)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
else()
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus, prometheus-alertmanager")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${MAILRELAY_PACKAGING_DIR}/postinst ${MAILRELAY_PACKAGING_DIR}/prerm
    ${MAILRELAY_PACKAGING_DIR}/postrm ${MAILRELAY_PACKAGING_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
