# The Kubernetes list-and-watch client (included from the top level; the
# kube module's own CMakeLists adds the configuration loaders beside it).
add_library(rebound_kube_watch STATIC
  ${CMAKE_CURRENT_LIST_DIR}/src/watcher.cpp       # list, watch, resume, re-list, backoff
  ${CMAKE_CURRENT_LIST_DIR}/src/watch_event.cpp   # a watch line parsed; resourceVersion order
)
target_include_directories(rebound_kube_watch PUBLIC ${CMAKE_CURRENT_LIST_DIR}/include
                                              PRIVATE ${CMAKE_CURRENT_LIST_DIR}/src)
target_link_libraries(rebound_kube_watch PUBLIC rebound::rebound Boost::json PRIVATE Boost::url)
