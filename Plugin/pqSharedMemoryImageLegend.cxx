// SPDX-License-Identifier: BSD-3-Clause
#include "pqSharedMemoryImageLegend.h"

#include <pqApplicationCore.h>
#include <pqCoreUtilities.h>
#include <pqDataRepresentation.h>
#include <pqPropertiesPanel.h>
#include <pqServerManagerModel.h>
#include <pqView.h>

#include <vtkSMPVRepresentationProxy.h>
#include <vtkSMPropertyHelper.h>
#include <vtkSMProxy.h>
#include <vtkSMViewProxy.h>

#include <QWidget>

#include <cstring>

//-----------------------------------------------------------------------------
pqSharedMemoryImageLegend::pqSharedMemoryImageLegend(QObject* parent)
  : Superclass(parent)
{
}

//-----------------------------------------------------------------------------
pqSharedMemoryImageLegend::~pqSharedMemoryImageLegend() = default;

//-----------------------------------------------------------------------------
void pqSharedMemoryImageLegend::startup()
{
  pqServerManagerModel* model = pqApplicationCore::instance()->getServerManagerModel();
  QObject::connect(model, &pqServerManagerModel::representationAdded, this,
    &pqSharedMemoryImageLegend::onRepresentationAdded);
}

//-----------------------------------------------------------------------------
void pqSharedMemoryImageLegend::shutdown()
{
  QObject::disconnect(
    pqApplicationCore::instance()->getServerManagerModel(), nullptr, this, nullptr);
}

//-----------------------------------------------------------------------------
void pqSharedMemoryImageLegend::onRepresentationAdded(pqRepresentation* added)
{
  // (The pq display does not know its input yet: ask its proxy.)
  auto* repr = qobject_cast<pqDataRepresentation*>(added);
  vtkSMProxy* input = repr && repr->getProxy()->GetProperty("Input")
    ? vtkSMPropertyHelper(repr->getProxy(), "Input").GetAsProxy()
    : nullptr;
  if (!input || !input->GetXMLName() ||
    std::strcmp(input->GetXMLName(), "SharedMemoryImageSource") != 0)
  {
    return;
  }
  this->NewDisplays.append(repr);
  // The GUI shows the new display's legend while it applies; hide it once
  // the properties panel says the Apply is done.
  for (pqPropertiesPanel* panel :
    pqCoreUtilities::mainWidget()->findChildren<pqPropertiesPanel*>())
  {
    QObject::connect(panel, QOverload<>::of(&pqPropertiesPanel::applied), this,
      &pqSharedMemoryImageLegend::onApplied, Qt::UniqueConnection);
  }
}

//-----------------------------------------------------------------------------
void pqSharedMemoryImageLegend::onApplied()
{
  const QList<QPointer<pqDataRepresentation>> displays = this->NewDisplays;
  this->NewDisplays.clear();
  for (const QPointer<pqDataRepresentation>& repr : displays)
  {
    pqView* view = repr ? repr->getView() : nullptr;
    vtkSMProxy* proxy = repr ? repr->getProxy() : nullptr;
    if (!view || !proxy || !proxy->GetProperty("MapScalars") ||
      vtkSMPropertyHelper(proxy, "MapScalars").GetAsInt() != 0)
    {
      continue;
    }
    if (vtkSMPVRepresentationProxy::IsScalarBarVisible(proxy, view->getProxy()))
    {
      vtkSMPVRepresentationProxy::SetScalarBarVisibility(proxy, view->getProxy(), false);
      view->render();
    }
  }
}
