// SPDX-License-Identifier: BSD-3-Clause
#include "vtkSharedMemoryImagePipelineController.h"

#include "vtkCommand.h"
#include "vtkDataObject.h"
#include "vtkObjectFactory.h"
#include "vtkPVArrayInformation.h"
#include "vtkPVDataInformation.h"
#include "vtkSMPVRepresentationProxy.h"
#include "vtkSMPropertyHelper.h"
#include "vtkSMRenderViewProxy.h"
#include "vtkSMSourceProxy.h"
#include "vtkSMStringVectorProperty.h"
#include "vtkSMTransferFunctionManager.h"
#include "vtkSMTransferFunctionProxy.h"
#include "vtkSMViewProxy.h"
#include "vtkSharedMemoryImageSource.h"
#include "vtkSmartPointer.h"
#include "vtkVersion.h"
#include "vtkWeakPointer.h"

#include <cstring>

vtkStandardNewMacro(vtkSharedMemoryImagePipelineController);

namespace
{
// The proxy of the plugin's live source (sources group).
bool IsStreamSource(vtkSMSourceProxy* producer)
{
  return producer && producer->GetXMLName() &&
    std::strcmp(producer->GetXMLName(), "SharedMemoryImageSource") == 0;
}

// The visible displays in `view` other than `repr`.
int OtherVisibleDisplays(vtkSMViewProxy* view, vtkSMProxy* repr)
{
  int count = 0;
  vtkSMPropertyHelper displays(view, "Representations", true);
  for (unsigned int i = 0; i < displays.GetNumberOfElements(); ++i)
  {
    vtkSMProxy* other = displays.GetAsProxy(i);
    if (other && other != repr && other->GetProperty("Input") &&
      vtkSMPropertyHelper(other, "Visibility", true).GetAsInt() != 0)
    {
      ++count;
    }
  }
  return count;
}

// A display made before its stream's first frame (the source added, then its
// server started): sets it up like one made with a frame, when the first
// frame arrives. Observes the source proxy's UpdateDataEvent (after every
// update, in the GUI and in scripts alike) until then, or until the display
// is gone or the user chose its coloring.
class FirstFrameObserver : public vtkCommand
{
public:
  static FirstFrameObserver* New() { return new FirstFrameObserver; }

  static void Watch(
    vtkSMProxy* repr, vtkSMSourceProxy* producer, int outputPort, vtkSMViewProxy* view)
  {
    // Until then the image is empty: no coloring (ParaView's default would
    // pick one of the field data arrays that say why there is no frame).
    vtkSMPVRepresentationProxy::SetScalarColoring(repr, nullptr, vtkDataObject::POINT);
    repr->UpdateVTKObjects();
    vtkSmartPointer<FirstFrameObserver> observer = vtkSmartPointer<FirstFrameObserver>::New();
    observer->Repr = repr;
    observer->View = view;
    observer->OutputPort = outputPort;
    observer->Tag = producer->AddObserver(vtkCommand::UpdateDataEvent, observer);
  }

  void Execute(vtkObject* caller, unsigned long, void*) override
  {
    auto* producer = vtkSMSourceProxy::SafeDownCast(caller);
    if (!producer)
    {
      return;
    }
    if (!this->Repr || !this->View || ColoringChosen(this->Repr))
    {
      producer->RemoveObserver(this->Tag); // (deletes this observer)
      return;
    }
    if (vtkSharedMemoryImagePipelineController::ShowInOwnColors(
          this->Repr, producer, this->OutputPort, this->View))
    {
      // The camera was placed for an empty view: frame the picture, as an
      // Apply with the frame there would have (when it is alone in the view).
      auto* renderView = vtkSMRenderViewProxy::SafeDownCast(this->View);
      if (renderView && OtherVisibleDisplays(renderView, this->Repr) == 0)
      {
        renderView->ResetCamera();
      }
      producer->RemoveObserver(this->Tag); // (deletes this observer)
    }
  }

private:
  FirstFrameObserver() = default;

  // The user (or a script) colored the display meanwhile: leave it so.
  static bool ColoringChosen(vtkSMProxy* repr)
  {
    vtkSMProperty* name = repr->GetProperty("ColorArrayName");
    const char* array = name ? vtkSMPropertyHelper(name).GetInputArrayNameToProcess() : nullptr;
    return array && *array;
  }

  vtkWeakPointer<vtkSMProxy> Repr;
  vtkWeakPointer<vtkSMViewProxy> View;
  int OutputPort = 0;
  unsigned long Tag = 0;
};

// Keeps a stream source proxy's Status (an information property, shown in the
// Properties panel) current after every update. Fetching it is a pull through
// the session (a round trip to a remote server; a message built and read
// even in builtin mode), so when the source object lives in this process
// (builtin) its status is compared first, and fetched only when it changed.
class StatusObserver : public vtkCommand
{
public:
  static StatusObserver* New() { return new StatusObserver; }
  void Execute(vtkObject* caller, unsigned long, void*) override
  {
    auto* proxy = vtkSMProxy::SafeDownCast(caller);
    auto* status =
      proxy ? vtkSMStringVectorProperty::SafeDownCast(proxy->GetProperty("Status")) : nullptr;
    if (status && !Current(proxy, status))
    {
      proxy->UpdatePropertyInformation(status);
    }
  }

private:
  // Does `status` hold the source's status already? Known only when the
  // source object is in this process; false otherwise (fetch it).
  static bool Current(vtkSMProxy* proxy, vtkSMStringVectorProperty* status)
  {
    auto* source = vtkSharedMemoryImageSource::SafeDownCast(proxy->GetClientSideObject());
    if (!source || status->GetNumberOfElements() != 1)
    {
      return false;
    }
    const char* have = status->GetElement(0);
    return have && std::strcmp(have, source->GetStatus()) == 0;
  }
};

// Puts vtkSharedMemoryImagePipelineController in place of ParaView's
// controller: both class names ParaView creates one by (Python's
// servermanager asks for the base class, the GUI for the rendering one).
class vtkSharedMemoryImageViewsFactory : public vtkObjectFactory
{
public:
  static vtkSharedMemoryImageViewsFactory* New()
  {
    auto* f = new vtkSharedMemoryImageViewsFactory;
    f->InitializeObjectBase();
    return f;
  }
  vtkTypeMacro(vtkSharedMemoryImageViewsFactory, vtkObjectFactory);
  const char* GetVTKSourceVersion() override { return VTK_SOURCE_VERSION; }
  const char* GetDescription() override
  {
    return "SharedMemoryImage: shows shared-memory image streams in their own colors";
  }

protected:
  vtkSharedMemoryImageViewsFactory()
  {
    for (const char* base :
      { "vtkSMParaViewPipelineController", "vtkSMParaViewPipelineControllerWithRendering" })
    {
      this->RegisterOverride(base, "vtkSharedMemoryImagePipelineController",
        "Shows shared-memory image streams in their own colors", 1,
        []() -> vtkObject* { return vtkSharedMemoryImagePipelineController::New(); });
    }
  }
};

// Registered once, when the library is loaded (in every process that loads
// the plugin); ParaView's own override of the base controller is disabled so
// that this one is found first. The factory lives as long as the process.
struct FactoryRegistration
{
  FactoryRegistration()
  {
    vtkObjectFactory::SetAllEnableFlags(
      0, "vtkSMParaViewPipelineController", "vtkSMParaViewPipelineControllerWithRendering");
    vtkSmartPointer<vtkSharedMemoryImageViewsFactory> factory =
      vtkSmartPointer<vtkSharedMemoryImageViewsFactory>::New();
    vtkObjectFactory::RegisterFactory(factory);
  }
};
const FactoryRegistration Registration;
}

//------------------------------------------------------------------------------
bool vtkSharedMemoryImagePipelineController::RegisterPipelineProxy(
  vtkSMProxy* proxy, const char* proxyname)
{
  if (!this->Superclass::RegisterPipelineProxy(proxy, proxyname))
  {
    return false;
  }
  if (IsStreamSource(vtkSMSourceProxy::SafeDownCast(proxy)))
  {
    proxy->AddObserver(vtkCommand::UpdateDataEvent, vtkSmartPointer<StatusObserver>::New());
  }
  return true;
}

//------------------------------------------------------------------------------
vtkSMProxy* vtkSharedMemoryImagePipelineController::Show(
  vtkSMSourceProxy* producer, int outputPort, vtkSMViewProxy* view, const char* representationType)
{
  const bool existed = view && producer && view->FindRepresentation(producer, outputPort);
  vtkSMProxy* repr = this->Superclass::Show(producer, outputPort, view, representationType);
  if (repr && view && !existed && IsStreamSource(producer) && repr->GetProperty("MapScalars") &&
    !ShowInOwnColors(repr, producer, outputPort, view))
  {
    FirstFrameObserver::Watch(repr, producer, outputPort, view);
  }
  return repr;
}

//------------------------------------------------------------------------------
bool vtkSharedMemoryImagePipelineController::ShowInOwnColors(
  vtkSMProxy* repr, vtkSMSourceProxy* producer, int outputPort, vtkSMViewProxy* view)
{
  if (!repr || !producer || !repr->GetProperty("MapScalars"))
  {
    return false;
  }
  vtkPVDataInformation* data = producer->GetDataInformation(outputPort);
  vtkPVArrayInformation* pixels =
    data ? data->GetArrayInformation("Pixels", vtkDataObject::POINT) : nullptr;
  if (!pixels)
  {
    return false; // no frame yet: ParaView's defaults until one is shown again
  }
  const int type = pixels->GetDataType();
  const int comps = pixels->GetNumberOfComponents();
  vtkSMPVRepresentationProxy::SetScalarColoring(repr, "Pixels", vtkDataObject::POINT);
  if (type == VTK_UNSIGNED_CHAR && (comps == 3 || comps == 4))
  {
    // The pixels are the colors.
    vtkSMPropertyHelper(repr, "MapScalars").Set(0);
    if (view)
    {
      vtkSMPVRepresentationProxy::SetScalarBarVisibility(repr, view, false);
    }
  }
  else if (comps == 1)
  {
    // One channel: gray levels, over the format's range or the data's.
    vtkSMPropertyHelper(repr, "MapScalars").Set(1);
    vtkSMProxy* lut = vtkSMPropertyHelper(repr, "LookupTable", true).GetAsProxy();
    if (lut)
    {
      vtkSMTransferFunctionProxy::ApplyPreset(lut, "Grayscale", false);
      if (type == VTK_UNSIGNED_CHAR)
      {
        const double range[2] = { 0.0, 255.0 };
        vtkSMPropertyHelper(lut, "AutomaticRescaleRangeMode")
          .Set(vtkSMTransferFunctionManager::NEVER);
        vtkSMTransferFunctionProxy::RescaleTransferFunction(lut, range, false);
      }
      else
      {
        vtkSMPVRepresentationProxy::RescaleTransferFunctionToDataRange(repr, false, true);
      }
      lut->UpdateVTKObjects();
    }
  }
  repr->UpdateVTKObjects();

  // A flat image alone in a render view: look at it in 2-D (parallel
  // projection, panning with the left button), as ParaView does for 2-D data.
  const int* extent = data->GetExtent();
  if (view && view->GetProperty("InteractionMode") && extent[4] == extent[5] &&
    OtherVisibleDisplays(view, repr) == 0)
  {
    vtkSMPropertyHelper(view, "InteractionMode").Set("2D");
    view->UpdateVTKObjects();
  }
  return true;
}
