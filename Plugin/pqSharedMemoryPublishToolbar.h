// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   pqSharedMemoryPublishToolbar
 * @brief   ParaView GUI toolbar: publish a view to a shared-memory image stream.
 *
 * One checkable action, "Publish view to shared memory". Checking it asks
 * for a stream file (pqFileDialog, so in a client/server session the file is
 * chosen on the server, where the pixels are; default
 * /dev/shm/paraview-view.smi, then the last file used) and creates a
 * `SharedMemoryViewPublisher` proxy for the active view; every render of that
 * view then goes out as a frame. Unchecking it stops publishing and deletes
 * the proxy.
 *
 * The publisher stays with the view it was started on when another view
 * becomes active (the tooltip names it); it stops by itself when that view is
 * closed or its server connection goes away. The action's text, tooltip and
 * status tip say whether it is publishing, and to which file.
 *
 * Added to ParaView with paraview_plugin_add_toolbar() (Plugin/CMakeLists.txt),
 * only when ParaView has its Qt GUI.
 */
#ifndef pqSharedMemoryPublishToolbar_h
#define pqSharedMemoryPublishToolbar_h

#include <QPointer>
#include <QString>
#include <QToolBar>

#include <vtkSmartPointer.h>

class QAction;
class pqServer;
class pqView;
class vtkSMProxy;

class pqSharedMemoryPublishToolbar : public QToolBar
{
  Q_OBJECT
  typedef QToolBar Superclass;

public:
  explicit pqSharedMemoryPublishToolbar(QWidget* parent = nullptr);
  ~pqSharedMemoryPublishToolbar() override;

  /// The file a newly started publisher suggests when nothing was used before.
  static const char* DefaultFileName;

  /// True while a view is being published.
  bool isPublishing() const;

  /// Start publishing @a view to @a fileName (stops any current publisher).
  /// Returns false, with the reason in @a error, when the proxy can't be made.
  bool startPublishing(pqView* view, const QString& fileName, QString* error = nullptr);

public Q_SLOTS:
  /// Stop publishing and delete the publisher proxy; harmless when stopped.
  void stopPublishing();

private Q_SLOTS:
  void onTriggered(bool checked);
  void onActiveViewChanged(pqView* view);
  void onViewRemoved(pqView* view);
  void onServerRemoved(pqServer* server);
  void updateState();

private:
  Q_DISABLE_COPY(pqSharedMemoryPublishToolbar)

  QString askFileName(pqServer* server);

  QAction* PublishAction;
  QPointer<pqView> PublishedView;
  vtkSmartPointer<vtkSMProxy> Publisher;
  QString PublishedFileName;
};

#endif
