# Installation: the headers and libraries a user links, a CMake package and
# pkg-config files. One package, `rebound`, with one export set per module:
#   rebound::rebound     the client library        rebound.pc
#   rebound::kube        kubeconfig, exec plugins, in-cluster, Watcher
#                                                   rebound-kube.pc (needs yaml-cpp)
#   rebound::election    leader election over a Lease or an etcd key, with the
#                        Lease model (rebound::lease_model), rebound::grpc and
#                        rebound::etcd_proto (protobuf-lite)  rebound-election.pc
# find_package(rebound) loads the core and every module whose dependencies
# are found; find_package(rebound COMPONENTS kube election) requires those.
# The embedded server and the Lease API server (lease_server/) are not
# installed as libraries: users run them as `rebound serve [--leases]`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(REBOUND_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/rebound)
install(TARGETS rebound EXPORT reboundTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/rebound DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT reboundTargets NAMESPACE rebound:: DESTINATION ${REBOUND_CMAKE_DIR})

# rebound_install_module(NAME TARGETS... HEADERS dir...): a module's
# libraries in the export set rebound-NAME-targets, its public headers.
function(rebound_install_module name)
  cmake_parse_arguments(M "" "" "TARGETS;HEADERS" ${ARGN})
  install(TARGETS ${M_TARGETS} EXPORT rebound-${name}-targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  foreach(dir IN LISTS M_HEADERS)
    install(DIRECTORY ${dir}/rebound DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endforeach()
  install(EXPORT rebound-${name}-targets NAMESPACE rebound:: DESTINATION ${REBOUND_CMAKE_DIR})
endfunction()
rebound_install_module(kube TARGETS rebound_kube HEADERS kube/include)
# The Lease model travels with the election module: the elector's public
# header does not include it, but its library does, and a controller that
# reads the lease it watches wants the typed view.
# The etcd lock backend brings rebound::grpc (installed with its headers)
# and the generated etcd messages (a library only: their headers stay
# private, so no user includes them).
rebound_install_module(election TARGETS rebound_lease_model rebound_grpc rebound_etcd_proto rebound_election
                       HEADERS lease/include grpc/include election/include)

configure_package_config_file(cmake/reboundConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/reboundConfig.cmake
  INSTALL_DESTINATION ${REBOUND_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/reboundConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/reboundConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/reboundConfigVersion.cmake
        DESTINATION ${REBOUND_CMAKE_DIR})
# Relocatable: the prefix is found from each .pc file's own location.
file(RELATIVE_PATH REBOUND_PC_TO_PREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
foreach(pc rebound rebound-kube rebound-election)
  configure_file(cmake/${pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
if(TARGET rebound_cli)
  install(TARGETS rebound_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
