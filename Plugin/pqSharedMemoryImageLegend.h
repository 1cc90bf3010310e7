// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   pqSharedMemoryImageLegend
 * @brief   ParaView GUI: no color legend for a stream shown in its own colors.
 *
 * When the GUI shows a new display it also shows its color legend (with the
 * default "automatically show and hide scalar bars" setting), after the
 * plugin's pipeline controller has set the display up. For a Shared Memory
 * Image Stream in its own colors (Map Scalars off: RGB and RGBA frames) that
 * legend describes a color map nothing uses, so this auto-start object hides
 * it again when the Apply that made the display is done (the properties
 * panel's applied() signal, which comes after ParaView's own handling).
 * Gray frames keep their legend; a legend the user turns on later stays.
 *
 * Added with paraview_plugin_add_auto_start() (Plugin/CMakeLists.txt), only
 * when ParaView has its Qt GUI.
 */
#ifndef pqSharedMemoryImageLegend_h
#define pqSharedMemoryImageLegend_h

#include <QList>
#include <QObject>
#include <QPointer>

class pqDataRepresentation;
class pqRepresentation;

class pqSharedMemoryImageLegend : public QObject
{
  Q_OBJECT
  typedef QObject Superclass;

public:
  explicit pqSharedMemoryImageLegend(QObject* parent = nullptr);
  ~pqSharedMemoryImageLegend() override;

  /// Called when the plugin is loaded: start watching new displays.
  void startup();
  /// Called when ParaView shuts down.
  void shutdown();

private Q_SLOTS:
  void onRepresentationAdded(pqRepresentation* repr);
  void onApplied();

private:
  Q_DISABLE_COPY(pqSharedMemoryImageLegend)

  // Displays of streams made since the last Apply.
  QList<QPointer<pqDataRepresentation>> NewDisplays;
};

#endif
