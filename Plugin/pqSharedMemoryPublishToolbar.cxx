// SPDX-License-Identifier: BSD-3-Clause
#include "pqSharedMemoryPublishToolbar.h"

#include <pqActiveObjects.h>
#include <pqApplicationCore.h>
#include <pqCoreUtilities.h>
#include <pqFileDialog.h>
#include <pqServer.h>
#include <pqServerManagerModel.h>
#include <pqSettings.h>
#include <pqView.h>

#include <vtkPVProxyDefinitionIterator.h>
#include <vtkSMPropertyHelper.h>
#include <vtkSMProxy.h>
#include <vtkSMProxyDefinitionManager.h>
#include <vtkSMSessionProxyManager.h>

#include <QAction>
#include <QFileInfo>
#include <QIcon>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QtDebug>

#include <cstring>

namespace
{
const char* const PublisherProxyName = "SharedMemoryViewPublisher";
const char* const FileNameSettingsKey = "SharedMemoryImage/PublishFileName";
const char* const ActionText = "Publish view to shared memory";

// The group that holds the publisher's proxy definition (found, not assumed,
// so that the XML may place it in any group); empty when it is not loaded.
QString publisherGroup(vtkSMSessionProxyManager* pxm)
{
  vtkSMProxyDefinitionManager* pdm = pxm ? pxm->GetProxyDefinitionManager() : nullptr;
  if (!pdm)
  {
    return QString();
  }
  vtkSmartPointer<vtkPVProxyDefinitionIterator> it;
  it.TakeReference(pdm->NewIterator());
  if (!it)
  {
    return QString();
  }
  for (it->InitTraversal(); !it->IsDoneWithTraversal(); it->GoToNextItem())
  {
    const char* name = it->GetProxyName();
    if (name && strcmp(name, PublisherProxyName) == 0)
    {
      return QString::fromUtf8(it->GetGroupName());
    }
  }
  return QString();
}

QString unavailableMessage()
{
  return pqSharedMemoryPublishToolbar::tr(
    "The %1 proxy is not available: is the SharedMemoryImage plugin loaded "
    "(on the server too, in a client/server session)?")
    .arg(PublisherProxyName);
}
}

const char* pqSharedMemoryPublishToolbar::DefaultFileName = "/dev/shm/paraview-view.smi";

//-----------------------------------------------------------------------------
pqSharedMemoryPublishToolbar::pqSharedMemoryPublishToolbar(QWidget* parentObject)
  : Superclass(tr("Shared Memory Image"), parentObject)
{
  // Keep the object name stable: saved toolbar layouts and GUI tests use it.
  this->setObjectName("SharedMemoryImageToolbar");

  this->PublishAction =
    this->addAction(QIcon(":/SharedMemoryImage/pqSharedMemoryPublish.svg"), tr(ActionText));
  this->PublishAction->setObjectName("actionPublishViewToSharedMemory");
  this->PublishAction->setCheckable(true);
  if (QWidget* button = this->widgetForAction(this->PublishAction))
  {
    button->setObjectName("PublishViewButton"); // a stable name for GUI tests
  }
  // triggered(), not toggled(): only the user starts or stops; setChecked()
  // below, which mirrors the state, never re-enters.
  QObject::connect(
    this->PublishAction, &QAction::triggered, this, &pqSharedMemoryPublishToolbar::onTriggered);

  pqActiveObjects& active = pqActiveObjects::instance();
  QObject::connect(&active, &pqActiveObjects::viewChanged, this,
    &pqSharedMemoryPublishToolbar::onActiveViewChanged);

  pqServerManagerModel* smmodel = pqApplicationCore::instance()->getServerManagerModel();
  QObject::connect(
    smmodel, &pqServerManagerModel::preViewRemoved, this, &pqSharedMemoryPublishToolbar::onViewRemoved);
  QObject::connect(smmodel, &pqServerManagerModel::aboutToRemoveServer, this,
    &pqSharedMemoryPublishToolbar::onServerRemoved);
  QObject::connect(smmodel, &pqServerManagerModel::preServerRemoved, this,
    &pqSharedMemoryPublishToolbar::onServerRemoved);

  this->updateState();
}

//-----------------------------------------------------------------------------
pqSharedMemoryPublishToolbar::~pqSharedMemoryPublishToolbar()
{
  this->stopPublishing();
}

//-----------------------------------------------------------------------------
bool pqSharedMemoryPublishToolbar::isPublishing() const
{
  return this->Publisher != nullptr;
}

//-----------------------------------------------------------------------------
void pqSharedMemoryPublishToolbar::onTriggered(bool checked)
{
  if (!checked)
  {
    this->stopPublishing();
    return;
  }

  pqView* view = pqActiveObjects::instance().activeView();
  QString error;
  if (!view)
  {
    error = tr("There is no active view to publish.");
  }
  else if (publisherGroup(view->getServer()->proxyManager()).isEmpty())
  {
    error = unavailableMessage();
  }
  else
  {
    const QString fileName = this->askFileName(view->getServer());
    if (fileName.isEmpty())
    {
      this->updateState(); // cancelled: back to unchecked
      return;
    }
    if (this->startPublishing(view, fileName, &error))
    {
      return;
    }
  }
  this->updateState();
  // To ParaView's Output Messages window (it pops up), never a modal box.
  qCritical().noquote() << tr(ActionText) + ": " + error;
}

//-----------------------------------------------------------------------------
QString pqSharedMemoryPublishToolbar::askFileName(pqServer* server)
{
  pqSettings* settings = pqApplicationCore::instance()->settings();
  const QString suggested =
    settings ? settings->value(FileNameSettingsKey, DefaultFileName).toString() : DefaultFileName;

  pqFileDialog dialog(server, pqCoreUtilities::mainWidget(),
    tr("Publish View to Shared Memory Image Stream"), QFileInfo(suggested).path(),
    tr("Shared memory image streams (*.smi);;All files (*)"), false);
  dialog.setObjectName("SharedMemoryPublishFileDialog");
  dialog.setFileMode(pqFileDialog::AnyFile);
  // pqFileDialog has no API to suggest a name: fill its file-name field
  // ("EntityName" in ParaView 5.11, "FileName" before).
  QLineEdit* nameEdit = dialog.findChild<QLineEdit*>("EntityName");
  if (!nameEdit)
  {
    nameEdit = dialog.findChild<QLineEdit*>("FileName");
  }
  if (nameEdit)
  {
    nameEdit->setText(QFileInfo(suggested).fileName());
  }
  if (dialog.exec() != QDialog::Accepted)
  {
    return QString();
  }
  const QString fileName = dialog.getSelectedFiles().value(0);
  if (!fileName.isEmpty() && settings)
  {
    settings->setValue(FileNameSettingsKey, fileName);
  }
  return fileName;
}

//-----------------------------------------------------------------------------
bool pqSharedMemoryPublishToolbar::startPublishing(
  pqView* view, const QString& fileName, QString* error)
{
  this->stopPublishing();

  QString why;
  vtkSMSessionProxyManager* pxm =
    view && view->getServer() ? view->getServer()->proxyManager() : nullptr;
  const QString group = publisherGroup(pxm);
  vtkSmartPointer<vtkSMProxy> publisher;
  if (!view || fileName.isEmpty())
  {
    why = tr("A view and a file name are needed.");
  }
  else if (!pxm || group.isEmpty())
  {
    why = unavailableMessage();
  }
  else
  {
    publisher.TakeReference(
      pxm->NewProxy(group.toUtf8().constData(), PublisherProxyName));
    if (!publisher)
    {
      why = tr("Could not create the %1 proxy.").arg(PublisherProxyName);
    }
  }
  if (!publisher)
  {
    if (error)
    {
      *error = why;
    }
    this->updateState();
    return false;
  }

  // The publisher serves the stream as soon as both are set.
  vtkSMPropertyHelper(publisher, "FileName").Set(fileName.toUtf8().constData());
  vtkSMPropertyHelper(publisher, "View").Set(view->getProxy());
  publisher->UpdateVTKObjects();
  publisher->UpdatePropertyInformation();
  if (publisher->GetProperty("Publishing") &&
    vtkSMPropertyHelper(publisher, "Publishing").GetAsInt() == 0)
  {
    vtkSMPropertyHelper(publisher, "View").RemoveAllValues();
    publisher->UpdateVTKObjects();
    if (error)
    {
      *error = tr("Could not serve %1 (the Output Messages say why).").arg(fileName);
    }
    this->updateState();
    return false;
  }

  this->Publisher = publisher;
  this->PublishedView = view;
  this->PublishedFileName = fileName;
  this->updateState();

  // Publish the current image now instead of on the next interaction.
  view->render();
  return true;
}

//-----------------------------------------------------------------------------
void pqSharedMemoryPublishToolbar::stopPublishing()
{
  if (this->Publisher)
  {
    // Detach from the view before letting go, so the observer on its render
    // window is gone even if something else still holds the proxy.
    vtkSMPropertyHelper(this->Publisher, "View").RemoveAllValues();
    this->Publisher->UpdateVTKObjects();
    this->Publisher = nullptr;
  }
  this->PublishedView = nullptr;
  this->PublishedFileName.clear();
  this->updateState();
}

//-----------------------------------------------------------------------------
void pqSharedMemoryPublishToolbar::onActiveViewChanged(pqView*)
{
  // The publisher stays with its view; only whether one can start changes.
  this->updateState();
}

//-----------------------------------------------------------------------------
void pqSharedMemoryPublishToolbar::onViewRemoved(pqView* view)
{
  if (this->Publisher && view == this->PublishedView)
  {
    this->stopPublishing();
  }
}

//-----------------------------------------------------------------------------
void pqSharedMemoryPublishToolbar::onServerRemoved(pqServer* server)
{
  if (this->Publisher &&
    (!this->PublishedView || this->PublishedView->getServer() == server))
  {
    this->stopPublishing();
  }
}

//-----------------------------------------------------------------------------
void pqSharedMemoryPublishToolbar::updateState()
{
  QAction* action = this->PublishAction;
  const bool publishing = this->isPublishing();
  {
    const QSignalBlocker blocker(action);
    action->setChecked(publishing);
  }
  QString tip;
  if (publishing)
  {
    const QString viewName =
      this->PublishedView ? this->PublishedView->getSMName() : tr("the view");
    tip = tr("Publishing %1 to %2 (click to stop)").arg(viewName, this->PublishedFileName);
    action->setEnabled(true);
  }
  else
  {
    const bool haveView = pqActiveObjects::instance().activeView() != nullptr;
    tip = haveView ? tr("Publish the active view to a shared-memory image stream (stopped)")
                   : tr("Publish view to shared memory: no active view (stopped)");
    action->setEnabled(haveView);
  }
  action->setToolTip(tip);
  action->setStatusTip(tip);
}
